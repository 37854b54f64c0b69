// The review page. Posts are hostile text: they are only ever written with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { post: null, undo: [], busy: false };

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

function requestId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(path, body) {
  const options = { credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRF-Token"] = cookie("hateproto_csrf");
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/review/api/" + path, options);
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "login") showLogin();
  if (!response.ok) throw new Error(answer.detail || response.statusText);
  return answer;
}

function say(message) { $("status").textContent = message; }

function showLogin() {
  $("login").hidden = false;
  $("review").hidden = true;
  $("who").hidden = true;
}

function showSession(answer) {
  $("login").hidden = true;
  $("review").hidden = false;
  $("who").hidden = false;
  $("moderator").textContent = answer.moderator;
  setCount(answer.count);
}

function setCount(count) { $("count").textContent = String(count); }

function renderText(text, spans) {
  const holder = $("text");
  holder.replaceChildren();
  const points = Array.from(text); // spans count code points
  if (!spans || spans.length < 2) {
    holder.textContent = text;
    return;
  }
  let at = 0;
  for (const span of spans) {
    if (span.begin > at) holder.append(document.createTextNode(points.slice(at, span.begin).join("")));
    const part = document.createElement("span");
    const level = Math.min(4, Math.floor(span.score * 5));
    part.className = "span s" + level;
    part.title = "hate probability " + span.score.toFixed(2);
    part.textContent = points.slice(span.begin, span.end).join("");
    holder.append(part);
    at = span.end;
  }
  if (at < points.length) holder.append(document.createTextNode(points.slice(at).join("")));
}

function renderNeighbours(neighbours) {
  const list = $("neighbours");
  list.replaceChildren();
  $("no-neighbours").hidden = Boolean(neighbours && neighbours.length);
  for (const n of neighbours || []) {
    const item = document.createElement("li");
    const tag = document.createElement("span");
    tag.className = "tag " + (n.label === "hate" ? "hate" : "not_hate");
    tag.textContent = n.label + " " + n.similarity.toFixed(2);
    const text = document.createElement("span");
    text.textContent = n.text !== null && n.text !== undefined ? n.text : "sha256:" + n.sha256.slice(0, 16);
    item.append(tag, text);
    list.append(item);
  }
}

function render(post, waiting) {
  state.post = post;
  if (waiting !== undefined) $("waiting").textContent = String(waiting);
  $("empty").hidden = Boolean(post);
  $("post").hidden = !post;
  $("undo").disabled = state.undo.length === 0;
  if (!post) return;
  const details = post.details || {};
  $("post-id").textContent = String(post.id);
  $("probability").textContent = post.hate_probability.toFixed(3);
  $("threshold").textContent = post.threshold.toFixed(3);
  $("reason").textContent = post.reason === "sample" ? "random sample" : "close to the threshold";
  $("disagree").hidden = !details.layers_disagree;
  renderText(post.text, details.spans);
  renderNeighbours(details.neighbours);
}

async function loadNext() {
  const answer = await api("next");
  render(answer.post, answer.waiting);
}

async function act(kind) {
  if (state.busy) return;
  if (kind !== "undo" && !state.post) return;
  state.busy = true;
  try {
    if (kind === "hate" || kind === "not_hate") {
      const answer = await api("labels", { post_id: state.post.id, label: kind, request_id: requestId() });
      state.undo.push(answer.label_id);
      setCount(answer.count);
      say("Labelled post " + answer.post_id + " " + kind.replace("_", " ") + ".");
      await loadNext();
    } else if (kind === "skip") {
      await api("skip", { post_id: state.post.id });
      say("Skipped post " + state.post.id + ".");
      await loadNext();
    } else if (kind === "undo" && state.undo.length) {
      const answer = await api("undo", { label_id: state.undo.pop() });
      setCount(answer.count);
      say("Undone: post " + answer.post.id + " is back.");
      render(answer.post);
    }
  } catch (error) {
    say(error.message);
    if (kind !== "undo") await loadNext().catch(() => {});
  } finally {
    state.busy = false;
    $("undo").disabled = state.undo.length === 0;
  }
}

const KEYS = { h: "hate", n: "not_hate", s: "skip", u: "undo" };

document.addEventListener("keydown", (event) => {
  if ($("review").hidden || event.target.tagName === "INPUT") return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const kind = KEYS[event.key.toLowerCase()];
  if (kind) {
    event.preventDefault();
    act(kind);
  }
});

document.addEventListener("DOMContentLoaded", async () => {
  $("hate").addEventListener("click", () => act("hate"));
  $("not-hate").addEventListener("click", () => act("not_hate"));
  $("skip").addEventListener("click", () => act("skip"));
  $("undo").addEventListener("click", () => act("undo"));
  $("logout").addEventListener("click", async () => {
    await api("logout", {}).catch(() => {});
    state.undo = [];
    showLogin();
  });
  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api("login", { token: $("token").value, moderator: $("name").value });
      $("token").value = "";
      showSession(answer);
      say("");
      document.activeElement.blur();
      await loadNext();
    } catch (error) {
      say(error.message);
    }
  });
  try {
    showSession(await api("session"));
    await loadNext();
  } catch (error) {
    showLogin();
  }
});
