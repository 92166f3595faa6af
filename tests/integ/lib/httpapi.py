"""httpapi — ferryd's HTTP listener seen from a client: one request on a
fresh connection (http.client, path sent as given), a JSON endpoint with
the headers every JSON answer must carry, one sample of /metrics.

(Not named http.py: that would shadow the standard library's http package,
which http.client needs.)"""


def http_request(port, method, path, body=None, headers=None,
                 host="127.0.0.1", timeout=5.0):
    """One HTTP/1.1 request on a fresh connection: (status, headers with
    lower-case names, body bytes).  path is sent as given (no
    normalisation), so it can carry '..' and percent escapes."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def http_json(port, method, path, **kw):
    """http_request() for a JSON endpoint: (status, headers, parsed body),
    asserting the headers every JSON response must carry."""
    import json
    status, hdrs, data = http_request(port, method, path, **kw)
    assert hdrs.get("content-type", "").split(";")[0] == "application/json", \
        (path, status, hdrs)
    assert hdrs.get("cache-control") == "no-store", (path, status, hdrs)
    return status, hdrs, json.loads(data)


def metric(port, name, labels=None):
    """The value of one sample of /metrics (None when absent)."""
    status, _, data = http_request(port, "GET", "/metrics")
    assert status == 200, status
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                   if labels else "")
    for line in data.decode().splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    return None
