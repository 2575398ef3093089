from csms_runtime.serve import run

from smartcharging.app import create_app
from smartcharging.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    run("smartcharging", settings, lambda: create_app(settings))
