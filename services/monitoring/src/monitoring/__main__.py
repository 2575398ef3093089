from csms_runtime.serve import run

from monitoring.app import create_app
from monitoring.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("monitoring", settings, lambda: create_app(settings))
