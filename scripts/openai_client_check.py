#!/usr/bin/python3
"""Checks a running `pplug serve` the way the official OpenAI Python client talks to it.

The `openai` package is not a Debian package, so this script re-implements the parts of
openai-python (read at 3.3.1: src/openai/_base_client.py, _streaming.py, _client.py, types/)
that decide whether a server works with it: the headers it sends, its base-URL joining, its rules
for reading a response (JSON content type, the fields its models declare), its SSE decoder (lines
split at CR/LF/CRLF, "data:" fields joined by newlines, a blank line ends an event, a comment
line starts with ":", the stream ends at "data: [DONE]", a data event holding "error" raises),
and its mapping of error statuses to exceptions (400 BadRequestError, 401 AuthenticationError,
404 NotFoundError, ...) including which statuses it would retry.

Needs python3-httpx (Debian) and nothing else; it is not part of the test suite (it needs a
server). Usage:

    scripts/openai_client_check.py --base-url http://127.0.0.1:8080/v1 [--api-key K]

Prints one PASS/FAIL line per check and exits 1 when a check failed.
"""

import argparse
import json
import os
import platform
import sys
import uuid

import httpx

CLIENT_VERSION = "1.0.0-check"  # what X-Stainless-Package-Version carries


class APIError(Exception):
    """openai.APIError: a stream's error event, or (as APIStatusError) an HTTP error status."""

    def __init__(self, message, body, status=None, name="APIError", retry=False):
        super().__init__(message)
        self.body = body
        self.status = status
        self.name = name
        self.retry = retry


# openai-python's _make_status_error: the exception class of an error status.
def status_error_name(status):
    names = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
             404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
             429: "RateLimitError"}
    if status in names:
        return names[status]
    return "InternalServerError" if status >= 500 else "APIStatusError"


# openai-python's _should_retry (max_retries 2 by default): x-should-retry wins, then 408, 409,
# 429 and 5xx are retried.
def would_retry(response):
    header = response.headers.get("x-should-retry")
    if header in ("true", "false"):
        return header == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


class SSEDecoder:
    """openai-python's SSEDecoder and _SSELineDecoder, fed the response's bytes as they come."""

    def __init__(self):
        self._buffer = bytearray()
        self._skip_lf = False
        self._reset()

    def _reset(self):
        self._event, self._data, self._retry = None, [], None
        self._last_event_id = None

    def _lines(self, chunk):
        start = 0
        for end, byte in enumerate(chunk):
            if byte not in (10, 13):
                continue
            if self._skip_lf and end == start and byte == 10:
                self._skip_lf = False
                start = end + 1
                continue
            self._skip_lf = False
            self._buffer.extend(chunk[start:end])
            line = bytes(self._buffer)
            self._buffer.clear()
            self._skip_lf = byte == 13
            start = end + 1
            yield line
        if start < len(chunk):
            self._skip_lf = False
            self._buffer.extend(chunk[start:])

    def iter_bytes(self, chunks):
        for chunk in chunks:
            for line in self._lines(chunk):
                event = self.decode(line.decode("utf-8"))  # strict, as the client decodes
                if event is not None:
                    yield event
        if self._buffer:
            event = self.decode(bytes(self._buffer).decode("utf-8"))
            if event is not None:
                yield event

    def decode(self, line):
        if not line:
            if (not self._event and not self._data and not self._last_event_id
                    and self._retry is None):
                return None
            event = {"event": self._event, "data": "\n".join(self._data)}
            self._event, self._data, self._retry = None, [], None
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            self._last_event_id = value
        elif field == "retry":
            try:
                self._retry = int(value)
            except ValueError:
                pass
        return None


class Client:
    """The request side of openai.OpenAI(base_url=..., api_key=..., max_retries=0)."""

    def __init__(self, base_url, api_key, timeout=600.0):
        # The client forces a trailing slash on base_url and joins relative paths onto it.
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.timeout = timeout
        self.http = httpx.Client(timeout=timeout, follow_redirects=True)

    def headers(self, api_key=None):
        key = self.api_key if api_key is None else api_key
        return {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"OpenAI/Python {CLIENT_VERSION}",
            "X-Stainless-Lang": "python",
            "X-Stainless-Package-Version": CLIENT_VERSION,
            "X-Stainless-OS": platform.system() or "Unknown",
            "X-Stainless-Arch": platform.machine() or "unknown",
            "X-Stainless-Runtime": platform.python_implementation(),
            "X-Stainless-Runtime-Version": platform.python_version(),
            "x-stainless-retry-count": "0",
            "x-stainless-read-timeout": str(self.timeout),
        }

    def url(self, path):
        return self.base_url + path.lstrip("/")

    def request(self, method, path, body=None, api_key=None):
        """A non-streamed call: the parsed JSON body, or APIError for an error status."""
        content = None if body is None else json.dumps(body).encode("utf-8")
        response = self.http.request(method, self.url(path), content=content,
                                     headers=self.headers(api_key))
        if response.status_code >= 400:
            raise status_error(response)
        content_type = response.headers.get("content-type", "*").split(";")[0]
        if not content_type.endswith("json"):
            # _strict_response_validation=True raises here; the default returns the text, which
            # no `.choices` access survives.
            raise AssertionError(f"Content-Type {content_type!r} is not JSON")
        return response.json()

    def stream(self, path, body, api_key=None):
        """A streamed call: yields each chunk's JSON until data: [DONE]."""
        request = self.http.build_request("POST", self.url(path), headers=self.headers(api_key),
                                          content=json.dumps(body).encode("utf-8"))
        response = self.http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise status_error(response)
            saw_done = False
            for sse in SSEDecoder().iter_bytes(response.iter_bytes()):
                if sse["data"].startswith("[DONE]"):
                    saw_done = True
                    break
                data = json.loads(sse["data"])
                if isinstance(data, dict) and data.get("error"):
                    error = data["error"]
                    message = error.get("message") if isinstance(error, dict) else None
                    raise APIError(message or "An error occurred during streaming", error)
                yield data
            # The client stops at [DONE] without complaint when it never comes; a check wants it.
            if not saw_done:
                raise AssertionError("the stream ended without data: [DONE]")
        finally:
            response.close()


def status_error(response):
    text = response.text.strip()
    try:
        body = json.loads(text)
        message = f"Error code: {response.status_code} - {body}"
    except ValueError:
        body, message = text, text or f"Error code: {response.status_code}"
    data = body.get("error", body) if isinstance(body, dict) else body
    return APIError(message, data, response.status_code, status_error_name(response.status_code),
                    would_retry(response))


# What openai-python's models declare (types/completion.py, completion_choice.py,
# chat/chat_completion.py, chat/chat_completion_chunk.py, completion_usage.py).
FINISH = {"stop", "length", "content_filter"}
CHAT_FINISH = FINISH | {"tool_calls", "function_call"}


def need(condition, what):
    if not condition:
        raise AssertionError(what)


def check_head(body, obj):
    need(isinstance(body.get("id"), str) and body["id"], f"id must be a non-empty string: {body}")
    need(body.get("object") == obj, f"object must be {obj!r}: {body.get('object')!r}")
    need(isinstance(body.get("created"), int), f"created must be an integer: {body}")
    need(isinstance(body.get("model"), str), f"model must be a string: {body}")
    need(isinstance(body.get("choices"), list), f"choices must be a list: {body}")


def check_usage(usage, max_completion=None):
    need(isinstance(usage, dict), f"usage must be an object: {usage!r}")
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        need(isinstance(usage.get(key), int), f"usage.{key} must be an integer: {usage}")
    need(usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"],
         f"usage.total_tokens is not the sum: {usage}")
    if max_completion is not None:
        need(usage["completion_tokens"] <= max_completion, f"more tokens than asked: {usage}")


def check_completion(body, n, max_tokens):
    check_head(body, "text_completion")
    need([c.get("index") for c in body["choices"]] == list(range(n)),
         f"choice indexes must be 0..{n - 1}: {body['choices']}")
    for c in body["choices"]:
        need(isinstance(c.get("text"), str), f"choices[].text must be a string: {c}")
        need(c.get("finish_reason") in FINISH, f"bad finish_reason: {c}")
        need(c.get("logprobs") is None or isinstance(c["logprobs"], dict), f"bad logprobs: {c}")
    check_usage(body.get("usage"), n * max_tokens)


def check_chat(body, n, max_tokens):
    check_head(body, "chat.completion")
    need([c.get("index") for c in body["choices"]] == list(range(n)),
         f"choice indexes must be 0..{n - 1}: {body['choices']}")
    for c in body["choices"]:
        message = c.get("message")
        need(isinstance(message, dict) and message.get("role") == "assistant",
             f"choices[].message.role must be 'assistant': {c}")
        need(message.get("content") is None or isinstance(message["content"], str),
             f"choices[].message.content must be a string or null: {c}")
        need(c.get("finish_reason") in CHAT_FINISH, f"bad finish_reason: {c}")
    check_usage(body.get("usage"), n * max_tokens)


def collect_stream(chunks, chat, n):
    """Texts and finish reasons per choice from a stream's chunks, each chunk checked."""
    texts, finish, ids, roles = [""] * n, [None] * n, set(), [None] * n
    usage = None
    for chunk in chunks:
        check_head(chunk, "chat.completion.chunk" if chat else "text_completion")
        ids.add(chunk["id"])
        if chunk.get("usage") is not None:
            check_usage(chunk["usage"])
            usage = chunk["usage"]
        for c in chunk["choices"]:
            i = c.get("index")
            need(isinstance(i, int) and 0 <= i < n, f"bad choice index: {c}")
            need(finish[i] is None, f"choice {i} continued after its finish_reason: {c}")
            reason = c.get("finish_reason")
            need(reason is None or reason in (CHAT_FINISH if chat else FINISH),
                 f"bad finish_reason: {c}")
            if chat:
                delta = c.get("delta")
                need(isinstance(delta, dict), f"chunk choices need a delta object: {c}")
                if delta.get("role") is not None:
                    need(delta["role"] == "assistant", f"bad delta.role: {c}")
                    roles[i] = delta["role"]
                if delta.get("content") is not None:
                    need(isinstance(delta["content"], str), f"bad delta.content: {c}")
                    texts[i] += delta["content"]
            else:
                need(isinstance(c.get("text"), str), f"chunk choices need text: {c}")
                texts[i] += c["text"]
            finish[i] = reason
    need(len(ids) == 1, f"one stream must keep one id: {ids}")
    need(all(f is not None for f in finish), f"every choice needs a finish_reason: {finish}")
    if chat:
        need(all(r == "assistant" for r in roles), f"every chat choice needs a role delta: {roles}")
    return texts, finish, usage


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def run(self, name, fn):
        try:
            detail = fn()
        except (AssertionError, APIError, httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            self.failed += 1
            kind = getattr(e, "name", type(e).__name__)
            print(f"FAIL {name}: {kind}: {e}")
            return
        self.passed += 1
        print(f"PASS {name}" + (f": {detail}" if detail else ""))


def expect_error(fn, status, name, param=None, code=None):
    try:
        fn()
    except APIError as e:
        need(e.status == status, f"expected HTTP {status}, got {e.status}: {e}")
        need(e.name == name, f"expected {name}, got {e.name}")
        need(isinstance(e.body, dict), f"the error body must be an object: {e.body!r}")
        need(isinstance(e.body.get("message"), str), f"error.message must be a string: {e.body}")
        need(isinstance(e.body.get("type"), str), f"error.type must be a string: {e.body}")
        if param is not None:
            need(e.body.get("param") == param, f"error.param must be {param!r}: {e.body}")
        if code is not None:
            need(e.body.get("code") == code, f"error.code must be {code!r}: {e.body}")
        retry = " (the client would retry it)" if e.retry else ""
        return f"{e.name} {e.status}{retry}: {e.body['message'][:70]}"
    raise AssertionError(f"expected {name} {status}, got a success")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--api-key", default=os.environ.get("PPLUG_API_KEY", ""),
                        help="the server's --api-key; empty = the server has none")
    parser.add_argument("--user", default="check-" + uuid.uuid4().hex[:8],
                        help="user id to create (deleted at the end)")
    parser.add_argument("--max-tokens", type=int, default=12)
    args = parser.parse_args()

    # openai.OpenAI() refuses to start without a key; against a keyless server any key works.
    client = Client(args.base_url, args.api_key or "sk-no-key")
    checks = Checks()
    user, tokens = args.user, args.max_tokens
    prompt = "Once upon a time"
    chat_messages = [{"role": "user", "content": prompt}]
    greedy = {}  # the non-streamed greedy answers the streamed ones must equal

    def models():
        body = client.request("GET", "/models")
        need(body.get("object") == "list" and isinstance(body.get("data"), list) and body["data"],
             f"models.list needs a non-empty list: {body}")
        for m in body["data"]:
            need(isinstance(m.get("id"), str) and m.get("object") == "model", f"bad model: {m}")
        return "models: " + ", ".join(m["id"] for m in body["data"])

    def put_history():
        items = [{"id": "h1", "text": "Lily loved her red ball"},
                 {"id": "h2", "text": "The dog ran to the park"},
                 {"id": "h3", "text": "A cat sat in the sun"}]
        body = client.request("PUT", f"/users/{user}/history", items)
        need(body.get("items") == 3 and body.get("encoded") == 3, f"PUT history: {body}")
        body = client.request("POST", f"/users/{user}/history",
                              {"items": [{"id": "h4", "text": "They ate cake"}]})
        need(body.get("items") == 4 and body.get("encoded") == 1, f"POST history: {body}")
        body = client.request("GET", f"/users/{user}")
        need(body.get("items") == 4 and body.get("id") == user, f"GET user: {body}")
        return f"user {user}: 3 items put, 1 appended, 4 read back"

    def completion():
        body = client.request("POST", "/completions", {"model": "pplug", "prompt": prompt,
                                                       "user": user, "max_tokens": tokens,
                                                       "temperature": 0})
        check_completion(body, 1, tokens)
        greedy["text"] = body["choices"][0]
        return f"{body['choices'][0]['text']!r} ({body['choices'][0]['finish_reason']})"

    def completion_stream():
        texts, finish, _ = collect_stream(
            client.stream("/completions", {"model": "pplug", "prompt": prompt, "user": user,
                                           "max_tokens": tokens, "temperature": 0,
                                           "stream": True}), chat=False, n=1)
        need(texts[0] == greedy["text"]["text"],
             f"streamed {texts[0]!r} != whole {greedy['text']['text']!r}")
        need(finish[0] == greedy["text"]["finish_reason"], f"finish {finish[0]}")
        return "same text and finish_reason as the whole response"

    def chat():
        body = client.request("POST", "/chat/completions", {"model": "pplug",
                                                            "messages": chat_messages,
                                                            "user": user, "max_tokens": tokens,
                                                            "temperature": 0})
        check_chat(body, 1, tokens)
        greedy["chat"] = body["choices"][0]
        return f"{body['choices'][0]['message']['content']!r}"

    def chat_stream():
        texts, finish, _ = collect_stream(
            client.stream("/chat/completions", {"model": "pplug", "messages": chat_messages,
                                                "user": user, "max_tokens": tokens,
                                                "temperature": 0, "stream": True}),
            chat=True, n=1)
        need(texts[0] == greedy["chat"]["message"]["content"],
             f"streamed {texts[0]!r} != whole {greedy['chat']['message']['content']!r}")
        need(finish[0] == greedy["chat"]["finish_reason"], f"finish {finish[0]}")
        return "role delta, content deltas equal to the whole response, finish_reason"

    def content_parts():
        # What newer clients send: a "developer" message and content as an array of text parts.
        ask = lambda messages: client.request("POST", "/chat/completions", {
            "messages": messages, "user": user, "max_tokens": tokens, "temperature": 0})
        parts = ask([{"role": "developer", "content": "Be kind."},
                     {"role": "user", "content": [{"type": "text", "text": "Once upon"},
                                                  {"type": "text", "text": "a time"}]}])
        plain = ask([{"role": "system", "content": "Be kind."},
                     {"role": "user", "content": "Once upon\na time"}])
        check_chat(parts, 1, tokens)
        need(parts["choices"][0]["message"] == plain["choices"][0]["message"],
             f"{parts['choices'][0]['message']} != {plain['choices'][0]['message']}")
        return "same answer as the system role and a string content"

    def n_choices():
        body = client.request("POST", "/completions", {"prompt": prompt, "user": user, "n": 3,
                                                       "max_tokens": tokens, "temperature": 0.9,
                                                       "seed": 11})
        check_completion(body, 3, tokens)
        body = client.request("POST", "/chat/completions", {"messages": chat_messages, "n": 2,
                                                            "max_tokens": tokens, "seed": 5})
        check_chat(body, 2, tokens)
        texts, _, _ = collect_stream(
            client.stream("/chat/completions", {"messages": chat_messages, "n": 2,
                                                "max_tokens": tokens, "seed": 5,
                                                "stream": True}), chat=True, n=2)
        need([c["message"]["content"] for c in body["choices"]] == texts,
             "a seeded n=2 stream must equal the same seeded request unstreamed")
        return "n=3 completion, n=2 chat, n=2 chat stream (same seed, same texts)"

    def stop():
        whole = greedy["text"]["text"]
        # A stop string from inside the greedy answer: the answer must end just before it.
        cut = next((i for i in range(len(whole) // 2, len(whole)) if whole[i] != " "), None)
        need(cut is not None and cut + 2 <= len(whole),
             f"the greedy answer {whole!r} is too short to cut")
        stop_string = whole[cut:cut + 2]
        body = client.request("POST", "/completions", {"prompt": prompt, "user": user,
                                                       "max_tokens": tokens, "temperature": 0,
                                                       "stop": [stop_string, "\n\n\n"]})
        check_completion(body, 1, tokens)
        choice = body["choices"][0]
        expected = whole[:whole.find(stop_string)]
        need(choice["text"] == expected,
             f"stop {stop_string!r}: {choice['text']!r} != {expected!r}")
        need(choice["finish_reason"] == "stop", f"finish_reason {choice['finish_reason']}")
        return f"stop {stop_string!r}: {choice['text']!r} (stop)"

    def stream_usage():
        chunks = list(client.stream("/chat/completions", {
            "messages": chat_messages, "max_tokens": tokens, "stream": True, "temperature": 0,
            "stream_options": {"include_usage": True}}))
        need(chunks and chunks[-1].get("choices") == [] and chunks[-1].get("usage"),
             "stream_options.include_usage: no last chunk with \"choices\": [] and the usage")
        collect_stream(chunks[:-1], chat=True, n=1)
        check_usage(chunks[-1]["usage"], tokens)
        return f"usage chunk {chunks[-1]['usage']}"

    def wrong_key():
        need(args.api_key, "the server has no --api-key (give --api-key to check 401)")
        # A client of its own (a connection pool of its own): a server that misreads the
        # connection after a refusal must not fail the checks that follow this one.
        wrong = Client(args.base_url, args.api_key + "x")
        detail = expect_error(lambda: wrong.request("GET", "/models"), 401, "AuthenticationError")
        # A refused request with a body, then another on the same pooled connection (as the
        # client's pool sends them): both must be 401, not a request misread from the body the
        # server left unread.
        body = {"messages": chat_messages * 20, "max_tokens": 1}
        for _ in range(2):
            expect_error(lambda: wrong.request("POST", "/chat/completions", body), 401,
                         "AuthenticationError")
        return detail + "; twice with a body on one connection"

    def bad_body():
        return expect_error(lambda: client.request("POST", "/completions",
                                                   {"prompt": prompt, "max_tokens": "ten"}),
                            400, "BadRequestError", param="max_tokens")

    def bad_stream_body():
        return expect_error(lambda: list(client.stream("/chat/completions",
                                                       {"messages": [], "stream": True})),
                            400, "BadRequestError", param="messages")

    def unknown_route():
        return expect_error(lambda: client.request("POST", "/embeddings", {"input": "x"}),
                            404, "NotFoundError")

    def unknown_user():
        return expect_error(lambda: client.request("POST", "/completions",
                                                   {"prompt": prompt, "user": user + "-nobody"}),
                            404, "NotFoundError", param="user", code="user_not_found")

    def delete_user():
        body = client.request("DELETE", f"/users/{user}")
        need(body.get("deleted") is True, f"DELETE: {body}")
        return expect_error(lambda: client.request("GET", f"/users/{user}"), 404, "NotFoundError")

    checks.run("models.list", models)
    checks.run("user history PUT/POST/GET", put_history)
    checks.run("completions.create", completion)
    checks.run("completions.create stream", completion_stream)
    checks.run("chat.completions.create", chat)
    checks.run("chat.completions.create stream", chat_stream)
    checks.run("chat content parts, developer role", content_parts)
    checks.run("n > 1", n_choices)
    checks.run("stop", stop)
    checks.run("stream_options.include_usage", stream_usage)
    checks.run("401 wrong API key", wrong_key)
    checks.run("400 bad body", bad_body)
    checks.run("400 bad body, stream=True", bad_stream_body)
    checks.run("404 unknown route", unknown_route)
    checks.run("404 unknown user", unknown_user)
    checks.run("user DELETE", delete_user)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
