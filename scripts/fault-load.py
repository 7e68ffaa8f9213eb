#!/usr/bin/env python3
"""Write load for scripts/fault-tests: N concurrent `POST /admin/tenants/acme/users`, each on its
own connection. Once every request has been sent (and after DELAY seconds), sends SIGNAL to PID
(0: none). Prints one line per request: `status username id-or-error` (status 0: no answer), and on stderr
how many requests had been answered when the signal was sent."""
import http.client, json, os, signal, sys, threading, time

base_port, token, n, pid, sig, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
prefix = sys.argv[7] if len(sys.argv) > 7 else "s"
results, sent, answered = [None] * n, threading.Semaphore(0), threading.Semaphore(0)

def one(i):
    name = f"{prefix}{i}"
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(base_port), timeout=60)
        body = json.dumps({"username": name, "email": f"{name}@example.com", "password": "correct horse battery"})
        c.request("POST", "/admin/tenants/acme/users", body,
                  {"authorization": f"Bearer {token}", "content-type": "application/json"})
        sent.release()
        r = c.getresponse()
        data = r.read()
        detail = json.loads(data).get("id", "-") if r.status == 201 else data[:160].decode(errors="replace")
        results[i] = f"{r.status} {name} {detail}"
        answered.release()
    except Exception as e:
        sent.release()
        results[i] = f"0 {name} {type(e).__name__}"

threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
if pid:
    for _ in range(n):
        sent.acquire()
    time.sleep(delay)
    os.kill(pid, getattr(signal, sig))
    before = sum(1 for _ in iter(lambda: answered.acquire(blocking=False), False))
    print(f"{before} of {n} answered before {sig}", file=sys.stderr)
for t in threads:
    t.join()
print("\n".join(results))
