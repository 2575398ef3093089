from csms_runtime.serve import run

from transactions.app import create_app
from transactions.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("transactions", settings, lambda: create_app(settings))
