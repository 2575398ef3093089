from csms_runtime.serve import run

from reporting.app import create_app
from reporting.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("reporting", settings, lambda: create_app(settings))
