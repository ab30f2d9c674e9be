#!/usr/bin/env python3
"""Closed-loop load on an OpenAI-compatible completions server (pplug serve or llama-server).

    bench/serve_load.py URL --clients C --requests R --max-tokens N [--users U] [--label L]

C client threads each send R requests to URL/v1/completions one after another (greedy,
non-streaming), each request a prompt from a fixed list; with --users U > 0 request i names the
user "u<i mod U>" (pplug's personalized path). Prints one JSON line: generated tokens per second
over the whole run (the sum of usage.completion_tokens / wall time), requests per second, and
the latency percentiles p50 / p90 / p99 in seconds. Standard library only.
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

PROMPTS = [
    "Once upon a time",
    "The little dog ran to the park and",
    "Lily had a big red ball. One day",
    "Tom and his sister went to the sea",
    "There was a cat who liked to sleep in the sun",
    "The bird sang a song",
    "Mom baked a cake for the party and the children",
    "A boy found a shiny stone",
]


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--extra", default="{}", help="JSON merged into every request body")
    args = ap.parse_args()
    url = urllib.parse.urlparse(args.url)
    extra = json.loads(args.extra)

    latencies, tokens, errors = [], [], []
    lock = threading.Lock()

    def client(index):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
        for r in range(args.requests):
            i = index * args.requests + r
            body = {"prompt": PROMPTS[i % len(PROMPTS)], "max_tokens": args.max_tokens,
                    "temperature": 0, "model": "m"}
            if args.users > 0:
                body["user"] = "u%d" % (i % args.users)
            body.update(extra)
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/completions", json.dumps(body),
                             {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise RuntimeError("HTTP %d: %s" % (resp.status, data[:200]))
                n = json.loads(data)["usage"]["completion_tokens"]
            except Exception as e:  # noqa: BLE001 - reported, the run goes on
                with lock:
                    errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
                continue
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                tokens.append(n)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    print(json.dumps({
        "label": args.label, "clients": args.clients, "requests": len(latencies),
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "generated_tokens": sum(tokens), "wall_s": round(wall, 3),
        "tokens_per_s": round(sum(tokens) / wall, 1) if wall > 0 else None,
        "requests_per_s": round(len(latencies) / wall, 2) if wall > 0 else None,
        "p50_s": percentile(latencies, 50), "p90_s": percentile(latencies, 90),
        "p99_s": percentile(latencies, 99),
    }))


if __name__ == "__main__":
    main()
