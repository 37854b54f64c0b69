"""Five real third-party Perspective clients against a real ``hateproto serve``: each client x
request kind -> ok/failed with the message (``benchmarks/results/perspective-clients.json``).

The clients, pinned, installed from their registries into a cache folder outside the
repository (``--cache``, default ``$HATEPROTO_HOME/perspective-clients``), never into the
project's environment:

* npm ``perspective-api-client`` 3.1.0 (with its own dependencies, ``npm install --prefix``);
* PyPI ``perspective`` 1.0.3, ``perspectiveapi`` 1.1.0, ``pyperspective`` 1.0.4 and
  ``perspective-py`` 0.3.4 (``pip install --target --no-deps``: their dependencies are in the
  project's environment already, except ``pycountry`` for perspective-py, pinned here).

Each client runs in its own process (three of them install a package named ``perspective``),
redirected to the server with exactly the lines ``docs/perspective.md`` gives a user
(:data:`REDIRECTS`; ``tests/test_perspective_clients.py`` checks that the guide quotes them).
The server is ``hateproto serve`` on a tiny random detector (the test suite's tiny BERT) with
untrained heads for the five attributes other than IDENTITY_ATTACK: the scores mean nothing,
the protocol is what is measured. "ok" means the client behaved as it does with Perspective:
a score in [0, 1] for a request that should succeed, Perspective's error (its message, as the
client surfaces it) for one that should fail.

    python benchmarks/perspective_clients.py            # writes the results file
    python benchmarks/perspective_clients.py --out /tmp/clients.json --cache /tmp/clients
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "perspective-clients.json"
KEY = "migration-test-key"
ATTRIBUTES = ("TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT")


@dataclass(frozen=True)
class Client:
    """A third-party client: where it comes from, how it is pinned, its default call."""

    name: str
    registry: str
    package: str
    version: str
    default_call: str
    needs: tuple[str, ...] = field(default=())  # pinned packages the environment lacks
    not_offered: tuple[str, ...] = field(default=())  # request kinds its API cannot make

    @property
    def folder(self) -> str:
        return f"{self.registry}-{self.package}-{self.version}"


CLIENTS: tuple[Client, ...] = (
    Client(
        "perspective-api-client",
        "npm",
        "perspective-api-client",
        "3.1.0",
        "new Perspective({apiKey}).analyze(text): TOXICITY, doNotStore, no languages",
    ),
    Client(
        "perspective",
        "pypi",
        "perspective",
        "1.0.3",
        "PerspectiveAPI(key).score(text): TOXICITY, no languages",
    ),
    Client(
        "perspectiveapi",
        "pypi",
        "perspectiveapi",
        "1.1.0",
        "perspective.blocking.Perspective(key=key).score(text): TOXICITY, languages ['en']",
        not_offered=("IDENTITY_ATTACK", "PROFANITY", "spans", "unsupported language"),
    ),
    Client(
        "pyperspective",
        "pypi",
        "pyperspective",
        "1.0.4",
        "Perspective(key).get_score(text): a POST of no body in the constructor, then "
        "TOXICITY, languages ['en'], doNotStore",
        not_offered=("spanAnnotations (it reads the whole-comment span)",),
    ),
    Client(
        "perspective-py",
        "pypi",
        "perspective.py",
        "0.3.4",
        "Client(key).analyze(text): the discovery document, then the six production "
        "attributes, no languages",
        needs=("pycountry==26.2.16",),
        not_offered=("spans", "empty comment (refused by the client before sending)"),
    ),
)

# The redirect of each client, verbatim in docs/perspective.md (with HATEPROTO the server's
# address and API_KEY the service's HATEPROTO_API_TOKEN).
REDIRECTS: dict[str, str] = {
    "perspective-api-client": """\
const path = require('path');
const Perspective = require('perspective-api-client');
// the client posts with its own axios: send those requests to hateproto
const clientDir = path.dirname(require.resolve('perspective-api-client'));
const axios = require(require.resolve('axios', {paths: [clientDir]}));
axios.interceptors.request.use(config => {
  config.url = config.url.replace('https://commentanalyzer.googleapis.com', HATEPROTO);
  return config;
});
const client = new Perspective({apiKey: API_KEY});
""",
    "perspective": """\
from perspective import PerspectiveAPI

client = PerspectiveAPI(API_KEY)
client.api_client.url = HATEPROTO + "/v1alpha1/{endpoint}"
""",
    "perspectiveapi": """\
import httpx
from perspective.blocking import Perspective


def to_hateproto(request: httpx.Request) -> None:
    target = httpx.URL(HATEPROTO)
    request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
    request.headers["Host"] = target.netloc.decode()


client = Perspective(key=API_KEY)
client._Perspective__client = httpx.Client(event_hooks={"request": [to_hateproto]})
""",
    "pyperspective": """\
import PyPerspective.Perspective as pyperspective

pyperspective.base_url = HATEPROTO + "/v1alpha1/comments:analyze"
client = pyperspective.Perspective(API_KEY)
""",
    "perspective-py": """\
import types

import perspective.main
from googleapiclient import discovery
from perspective import Client


def build_from_hateproto(*args, **kwargs):
    kwargs["discoveryServiceUrl"] = HATEPROTO + "/$discovery/rest?version=v1alpha1"
    return discovery.build(*args, **kwargs)


perspective.main.discovery = types.SimpleNamespace(build=build_from_hateproto)
client = Client(API_KEY)
""",
}

TEXT = "Thanks for sharing this article, it was a great read."
SPAN_TEXT = "They are vermin and should go back home. Nice game today!"
EMOJI_TEXT = "I love this 🎉 so much 👍🏽. They are vermin and should go home!"
SENTENCES = ["I love this 🎉 so much 👍🏽.", "They are vermin and should go home!"]
LONG_CHARS = 12000

_PYTHON_PRELUDE = f"""\
import json, sys
HATEPROTO, API_KEY = sys.argv[1], sys.argv[2]
TEXT = {TEXT!r}
SPAN_TEXT = {SPAN_TEXT!r}
EMOJI_TEXT = {EMOJI_TEXT!r}
SENTENCES = {SENTENCES!r}
LONG_TEXT = ((TEXT + " ") * 400)[:{LONG_CHARS}]
ATTRIBUTES = {ATTRIBUTES!r}
RESULTS = {{}}


def _message(exc):
    text = str(exc)
    body = getattr(exc, "read", None)  # urllib's HTTPError: the JSON body holds the message
    if body is not None:
        try:
            text = json.loads(body().decode())["error"]["message"]
        except Exception:
            pass
    return f"{{type(exc).__name__}}: {{text}}"[:300]


def score(value):
    assert isinstance(value, float) and 0.0 <= value <= 1.0, value
    return f"score {{value:.4f}}"


def attempt(kind, call, check=score, error=None):
    '''Run ``call``; ok when it returns what ``check`` accepts, or (``error`` given) when it
    fails with a message holding ``error``.'''
    try:
        got = call()
    except Exception as exc:
        message = _message(exc)
        RESULTS[kind] = {{"ok": error is not None and error in message, "message": message}}
        return
    if error is not None:
        RESULTS[kind] = {{"ok": False, "message": f"no error; got {{str(got)[:200]}}"}}
        return
    try:
        RESULTS[kind] = {{"ok": True, "message": check(got)}}
    except Exception as exc:
        RESULTS[kind] = {{"ok": False, "message": f"unexpected answer: {{_message(exc)}}"}}


def expect(want):
    def check(got):
        assert got == want, got
        return str(got)

    return check


def utf16(text, begin, end):
    return text.encode("utf-16-le")[2 * begin : 2 * end].decode("utf-16-le")


def spans_of(answer, text, attribute):
    spans = answer["attributeScores"][attribute]["spanScores"]
    return [utf16(text, s["begin"], s["end"]) for s in spans]

"""

_PYTHON_BODIES: dict[str, str] = {
    "perspective": """
attempt("default call", lambda: client.score(TEXT)["TOXICITY"])
for name in ATTRIBUTES:
    attempt(name, lambda: client.score(TEXT, tests=[name])[name])
attempt(
    "spans",
    lambda: spans_of(
        client.analyze_comment(SPAN_TEXT, span_annotations=True), SPAN_TEXT, "TOXICITY"
    ),
    check=expect(["They are vermin and should go back home.", "Nice game today!"]),
)
attempt(
    "emoji spans (UTF-16 offsets)",
    lambda: spans_of(
        client.analyze_comment(EMOJI_TEXT, span_annotations=True), EMOJI_TEXT, "TOXICITY"
    ),
    check=expect(SENTENCES),
)
attempt("12,000 characters", lambda: client.score(LONG_TEXT)["TOXICITY"])
wrong = PerspectiveAPI("not-the-key")
wrong.api_client.url = client.api_client.url
BAD_KEY = "API key not valid. Please pass a valid API key."
attempt("bad key", lambda: wrong.score(TEXT), error=BAD_KEY)
attempt("empty comment", lambda: client.score(""), error="Comment must be non-empty.")
attempt(
    "unsupported language",
    lambda: client.analyze_comment(TEXT, languages=["de"]),
    error="Attribute TOXICITY does not support request languages: de",
)
attempt(
    "suggestscore (501)",
    lambda: client.suggest_score(TEXT, {"TOXICITY": {"summaryScore": {"value": 0.0}}}),
    error="comments:suggestscore is not implemented",
)
""",
    "perspectiveapi": """
from perspective.blocking import Attribute

LAST = {}


def remember(response):
    response.read()
    LAST["body"] = response.json()


client._Perspective__client.event_hooks = {"request": [to_hateproto], "response": [remember]}


def server_said(call):
    def run():
        try:
            return call()
        except Exception as exc:
            error = LAST.get("body", {}).get("error", {})
            raise RuntimeError(f"{type(exc).__name__}; the server said: {error.get('message')}")

    return run


attempt("default call", lambda: client.score(TEXT).toxicity)
offered = {a.name for a in Attribute}
for name in ATTRIBUTES:
    if name in offered:
        attempt(name, lambda: getattr(client.score(TEXT, [Attribute[name]]), name.lower()))
attempt("12,000 characters", lambda: client.score(LONG_TEXT).toxicity)
wrong = Perspective(key="not-the-key")
wrong._Perspective__client = httpx.Client(
    event_hooks={"request": [to_hateproto], "response": [remember]}
)
attempt(
    "bad key",
    server_said(lambda: wrong.score(TEXT)),
    error="API key not valid. Please pass a valid API key.",
)
attempt("empty comment", server_said(lambda: client.score("")), error="Comment must be non-empty.")
""",
    "pyperspective": """
import requests

LAST = {}
_post = requests.post


def recording_post(*args, **kwargs):
    response = _post(*args, **kwargs)
    LAST["body"] = response.json()
    return response


requests.post = recording_post  # to see what the server said when the client fails


def server_said(call):
    def run():
        try:
            return call()
        except Exception as exc:
            error = LAST.get("body", {}).get("error", {})
            raise RuntimeError(f"{_message(exc)}; the server said: {error.get('message')}")

    return run


RESULTS["constructor (POST of no body)"] = {"ok": True, "message": "accepted the key"}
attempt("default call", lambda: client.get_score(TEXT)["TOXICITY"].score)
for name in ATTRIBUTES:
    attempt(name, lambda: client.get_score(TEXT, tests=[name])[name].score)
attempt(
    "spans",
    lambda: [str(span) for span in client.get_score(SPAN_TEXT)["TOXICITY"].spans],
    check=expect([SPAN_TEXT]),
)
attempt("detectedLanguages", lambda: client.get_score(TEXT).detected_langs, check=expect(["en"]))
attempt("bad key", lambda: pyperspective.Perspective("not-the-key"), error="InvalidAuthKey")
attempt(
    "empty comment",
    server_said(lambda: client.get_score("")),
    error="the server said: Comment must be non-empty.",
)
attempt(
    "unsupported language",
    server_said(lambda: client.get_score(TEXT, langs=["de"])),
    error="the server said: Attribute TOXICITY does not support request languages: de",
)
""",
    "perspective-py": """
attempt("default call", lambda: min(client.analyze(TEXT).values()) / 100)
for name in ATTRIBUTES:
    attempt(name, lambda: client.analyze(TEXT, [name])[name] / 100)
attempt("12,000 characters", lambda: client.analyze(LONG_TEXT, ["TOXICITY"])["TOXICITY"] / 100)
attempt(
    "bad key",
    lambda: Client("not-the-key"),
    error="API key not valid. Please pass a valid API key.",
)
attempt(
    "unsupported language",
    lambda: client.analyze(TEXT, ["TOXICITY"], language="de"),
    error="UnsupportedLanguage",
)
""",
}

_NODE_BODY = r"""
const TEXT = __TEXT__;
const SPAN_TEXT = __SPAN_TEXT__;
const EMOJI_TEXT = __EMOJI_TEXT__;
const SENTENCES = __SENTENCES__;
const ATTRIBUTES = __ATTRIBUTES__;
const LONG_TEXT = (TEXT + ' ').repeat(400).slice(0, __LONG__);
const RESULTS = {};

const score = value => {
  if (typeof value !== 'number' || value < 0 || value > 1) throw new Error(`not a score: ${value}`);
  return `score ${value.toFixed(4)}`;
};

async function attempt(kind, call, check = score, error = null) {
  let got;
  try {
    got = await call();
  } catch (exc) {
    const message = `${exc.name}: ${exc.message}`.slice(0, 300);
    RESULTS[kind] = {ok: error !== null && message.includes(error), message};
    return;
  }
  if (error !== null) {
    RESULTS[kind] = {ok: false, message: `no error; got ${JSON.stringify(got).slice(0, 200)}`};
    return;
  }
  try {
    RESULTS[kind] = {ok: true, message: check(got)};
  } catch (exc) {
    RESULTS[kind] = {ok: false, message: `unexpected answer: ${exc.message}`};
  }
}

const sameSpans = (answer, text, want) => {
  const got = answer.attributeScores.TOXICITY.spanScores.map(s => text.slice(s.begin, s.end));
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(JSON.stringify(got));
  return `spans ${JSON.stringify(got)}`;
};

const summary = name => answer => answer.attributeScores[name].summaryScore.value;
const asked = (text, options, name = 'TOXICITY') =>
  async () => summary(name)(await client.analyze(text, options));
const TWO = ['They are vermin and should go back home.', 'Nice game today!'];
const LANGUAGE_ERROR = 'Attribute TOXICITY does not support request languages: de';
const BAD_KEY = 'API key not valid. Please pass a valid API key.';

(async () => {
  await attempt('default call', asked(TEXT));
  for (const name of ATTRIBUTES) {
    await attempt(name, asked(TEXT, {attributes: [name]}, name));
  }
  await attempt('spans', () => client.analyze({comment: {text: SPAN_TEXT}, spanAnnotations: true}),
    answer => sameSpans(answer, SPAN_TEXT, TWO));
  await attempt('emoji spans (UTF-16 offsets)',
    () => client.analyze({comment: {text: EMOJI_TEXT}, spanAnnotations: true}),
    answer => sameSpans(answer, EMOJI_TEXT, SENTENCES));
  await attempt('detectedLanguages', () => client.analyze(TEXT), answer => {
    const detected = JSON.stringify(answer.detectedLanguages);
    if (detected !== '["en"]') throw new Error(JSON.stringify(answer));
    return `detected ${detected}`;
  });
  await attempt('12,000 characters', asked(LONG_TEXT));
  const wrong = new Perspective({apiKey: 'not-the-key'});
  await attempt('bad key', () => wrong.analyze(TEXT), score, BAD_KEY);
  const empty = () => client.analyze('', {validate: false});
  await attempt('empty comment', empty, score, 'Comment must be non-empty.');
  const german = () => client.analyze({comment: {text: TEXT}, languages: ['de']});
  await attempt('unsupported language', german, score, LANGUAGE_ERROR);
  console.log(JSON.stringify(RESULTS));
})();
"""


def driver(client: Client) -> str:
    """The program that redirects ``client`` and tries every request kind; prints JSON."""
    if client.registry == "npm":
        prelude = "const [HATEPROTO, API_KEY] = process.argv.slice(-2);\n"
        body = _NODE_BODY
        for name, value in {
            "__TEXT__": TEXT,
            "__SPAN_TEXT__": SPAN_TEXT,
            "__EMOJI_TEXT__": EMOJI_TEXT,
            "__SENTENCES__": SENTENCES,
            "__ATTRIBUTES__": list(ATTRIBUTES),
            "__LONG__": LONG_CHARS,
        }.items():
            body = body.replace(name, json.dumps(value, ensure_ascii=False))
        return prelude + REDIRECTS[client.name] + body
    closing = "\nprint(json.dumps(RESULTS))\n"
    return _PYTHON_PRELUDE + REDIRECTS[client.name] + _PYTHON_BODIES[client.name] + closing


# ---------------------------------------------------------------------- installing
class Unavailable(Exception):
    """A client could not be installed (its registry cannot be reached...)."""


def default_cache() -> Path:
    """``$HATEPROTO_HOME/perspective-clients`` (outside the repository)."""
    sys.path.insert(0, str(ROOT / "src"))
    from hateproto.paths import home_dir

    return home_dir() / "perspective-clients"


def install(client: Client, cache: Path) -> Path:
    """The folder ``client`` is installed in (installed now if the cache lacks it)."""
    target = cache / client.folder
    if (target / ".installed").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=client.folder + ".", dir=cache))
    if client.registry == "npm":
        if shutil.which("npm") is None:
            raise Unavailable("npm is not installed")
        command = ["npm", "install", "--prefix", str(staging), "--no-audit", "--no-fund"]
        command += ["--loglevel=error", "--fetch-timeout=30000", "--fetch-retries=1"]
        command += [f"{client.package}@{client.version}"]
    else:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        command += ["--disable-pip-version-check", "--no-input", "--timeout", "30"]
        command += ["--retries", "1", "--target", str(staging)]
        command += [f"{client.package}=={client.version}", *client.needs]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise Unavailable(f"{client.registry} install timed out") from None
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise Unavailable(f"{client.registry} install failed: {done.stderr.strip()[-400:]}")
    (staging / ".installed").write_text(" ".join(command[:3]) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def run_client(client: Client, folder: Path, url: str, key: str = KEY) -> dict:
    """Every request kind of ``client`` against ``url``: ``{kind: {"ok", "message"}}``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    if client.registry == "npm":
        env["NODE_PATH"] = str(folder / "node_modules")
        command = ["node", "-e", driver(client), "--", url, key]
    else:
        env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT / "src")])
        command = [sys.executable, "-c", driver(client), url, key]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        problem = (done.stderr or done.stdout).strip()[-600:]
        return {"client run": {"ok": False, "message": f"exit {done.returncode}: {problem}"}}
    return json.loads(lines[-1])


# ---------------------------------------------------------------------- the server
def build_detector(folder: Path) -> Path:
    """The tiny random detector of the test suite, with untrained heads for the five
    attributes other than IDENTITY_ATTACK, saved under ``folder``."""
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
    from conftest import build_tiny_encoder
    from tiny_detector import tiny_detector

    from hateproto.detector.attributes import AttributeHeads

    detector = tiny_detector(build_tiny_encoder(folder / "tiny-bert"))
    width = detector.backbone.hidden_size * len(detector.prototypes.layers)
    others = tuple(a for a in ATTRIBUTES if a != "IDENTITY_ATTACK")
    detector.attribute_heads = AttributeHeads.untrained(others, width, 0, "prototype_layers")
    return detector.save_pretrained(folder / "tiny-six-attributes")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(detector: Path, key: str = KEY, timeout: float = 180.0) -> Iterator[str]:
    """``hateproto serve --detector detector`` on a free loopback port, its token ``key``;
    yields its base URL once ``/livez`` answers."""
    port = _free_port()
    command = [sys.executable, "-m", "hateproto", "serve", "--detector", str(detector)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "HATEPROTO_API_TOKEN": key}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"hateproto serve did not start:\n{tail}")
            try:
                with urllib.request.urlopen(f"{url}/livez", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def detector_version(url: str, key: str = KEY) -> str:
    """``hateproto.model`` of an answer: the served detector by name and content hash."""
    body = json.dumps({"comment": {"text": TEXT}, "requestedAttributes": {"TOXICITY": {}}})
    request = urllib.request.Request(
        f"{url}/v1alpha1/comments:analyze?key={key}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())["hateproto"]["model"]


def run(cache: Path, detector: Path | None = None) -> dict:
    """Install every client, serve the detector, try every client; the results document."""
    installed: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for client in CLIENTS:
        try:
            installed[client.name] = install(client, cache)
        except Unavailable as exc:
            skipped[client.name] = str(exc)
    with tempfile.TemporaryDirectory() as scratch:
        detector = detector or build_detector(Path(scratch))
        with serve(detector) as url:
            served = detector_version(url)
            results = {
                client.name: run_client(client, installed[client.name], url)
                for client in CLIENTS
                if client.name in installed
            }
    clients = {}
    for client in CLIENTS:
        entry: dict = {
            "registry": client.registry,
            "package": client.package,
            "version": client.version,
            "default_call": client.default_call,
            "redirect": REDIRECTS[client.name],
            "not_offered": list(client.not_offered),
        }
        if client.name in skipped:
            entry["skipped"] = skipped[client.name]
        else:
            entry["results"] = results[client.name]
        clients[client.name] = entry
    ran = [c for c in clients.values() if "results" in c]
    default_ok = sum(c["results"].get("default call", {}).get("ok", False) for c in ran)
    kinds = [r for c in ran for r in c["results"].values()]
    return {
        "benchmark": "perspective_clients",
        "server": "hateproto serve: the test suite's tiny random detector with untrained heads "
        "for the five attributes other than IDENTITY_ATTACK (the protocol is measured, not "
        "the scores)",
        "detector": served,
        "summary": {
            "default calls ok": f"{default_ok} of {len(CLIENTS)}",
            "request kinds ok": f"{sum(r['ok'] for r in kinds)} of {len(kinds)}",
            "clients skipped": skipped,
        },
        "clients": clients,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="results JSON")
    parser.add_argument("--cache", type=Path, default=None, help="where clients are installed")
    parser.add_argument("--detector", type=Path, default=None, help="detector folder to serve")
    args = parser.parse_args(argv)
    document = run(args.cache or default_cache(), args.detector)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(document["summary"]))
    for name, client in document["clients"].items():
        for kind, result in client.get("results", {}).items():
            print(f"{name:24} {kind:32} {'ok' if result['ok'] else 'FAILED'}  {result['message']}")


if __name__ == "__main__":
    main()
