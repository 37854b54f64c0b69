"""Run by benchmarks/one_path_demo.sh on a copy with benchmarks/one_path/per_text_field.patch:
show that the new per-text field reaches a Prediction, a classify file, the HTTP answer and
the OpenAPI schema. Arguments: the tiny model folder, a scratch folder."""

import json
import sys
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

sys.path.insert(0, "tests")
from tiny_detector import tiny_detector  # noqa: E402

import hateproto  # noqa: E402
from hateproto.scoring.classify import classify_file  # noqa: E402
from hateproto.service.app import create_app  # noqa: E402
from hateproto.service.settings import ServiceSettings  # noqa: E402


def main(model: Path, scratch: Path) -> None:
    print("hateproto from", hateproto.__file__)
    detector = tiny_detector(model)
    print("Prediction:", detector.score(["they are vermin"])[0].to_dict())
    texts = pd.DataFrame({"text": ["they are vermin", "good game today"]})
    texts.to_csv(scratch / "in.csv", index=False)
    classify_file(detector, scratch / "in.csv", scratch / "out.csv", show_progress=False)
    print("file columns:", list(pd.read_csv(scratch / "out.csv").columns))
    with TestClient(create_app(detector, ServiceSettings(api_token=None))) as client:
        answer = client.post("/v1/classify", json={"texts": ["they are vermin"]}).json()
        print("HTTP:", answer["results"])
        schema = json.dumps(client.get("/openapi.json").json())
        print("OpenAPI has it:", "characters" in schema)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
