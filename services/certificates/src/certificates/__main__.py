from csms_runtime.serve import run

from certificates.app import create_app
from certificates.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("certificates", settings, lambda: create_app(settings))
