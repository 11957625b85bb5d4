"""Starts the project's own services (the `pia` binary) for tests that drive them with real boto3 clients."""
import os
import re
import subprocess

import pytest

PIA = os.environ.get("PIA_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "target", "debug", "pia"))


class Service:
    def __init__(self, args, pattern):
        self.process = subprocess.Popen([PIA, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        for line in self.process.stdout:
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                self.url = match.group(1)
                return
        raise RuntimeError(f"{args} did not start: {self.lines}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def emulator():
    service = Service(["emulator", "--port", "0"], r"EKS association API on (http://\S+)")
    yield service.url
    service.stop()


@pytest.fixture
def invoke_server(emulator):
    service = Service(["serve", "--port", "0", "--endpoint-url", emulator], r"Lambda Invoke API on (http://\S+)")
    yield service.url
    service.stop()
