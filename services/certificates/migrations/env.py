from csms_runtime.migrations import run_env

run_env("certificates")
