from csms_runtime.serve import run

from configuration.app import create_app
from configuration.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("configuration", settings, lambda: create_app(settings))
