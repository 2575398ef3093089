from csms_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8106
