import json
import sys
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

sys.path.insert(0, "tests")
from tiny_detector import tiny_detector
from hateproto.service.app import create_app
from hateproto.service.settings import ServiceSettings
from hateproto.scoring.classify import classify_file
import hateproto

print("hateproto from", hateproto.__file__)
det = tiny_detector(Path(sys.argv[1]))
print("Prediction:", det.score(["they are vermin"])[0].to_dict())
tmp = Path(sys.argv[2])
pd.DataFrame({"text": ["they are vermin", "good game today"]}).to_csv(tmp / "in.csv", index=False)
classify_file(det, tmp / "in.csv", tmp / "out.csv")
print("file columns:", list(pd.read_csv(tmp / "out.csv").columns))
with TestClient(create_app(det, ServiceSettings(api_token=None))) as client:
    print(
        "HTTP:", client.post("/v1/classify", json={"texts": ["they are vermin"]}).json()["results"]
    )
    print("OpenAPI has it:", "characters" in json.dumps(client.get("/openapi.json").json()))
