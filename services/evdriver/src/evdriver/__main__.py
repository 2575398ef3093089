from csms_runtime.serve import run

from evdriver.app import create_app
from evdriver.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("evdriver", settings, lambda: create_app(settings))
