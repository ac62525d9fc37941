#!/usr/bin/env python3
# Register N devices over 8 keep-alive connections; print the WAL's size
# every 10,000 devices and its largest.
import http.client, json, os, sys, threading
port, token, db, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = threading.Lock(); state = {'next': 0, 'done': 0, 'fail': 0, 'maxwal': 0}
def wal():
    try: return os.path.getsize(db + '-wal')
    except OSError: return 0
def worker():
    c = http.client.HTTPConnection('127.0.0.1', port)
    while True:
        with lock:
            i = state['next']; state['next'] += 1
        if i >= n: return
        body = json.dumps({'device_id': 'IMEI:wal-%d' % i, 'username': 'u%d' % i, 'password': 'p'})
        c.request('POST', '/api/v1/devices', body, {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
        r = c.getresponse(); r.read()
        with lock:
            state['done'] += 1
            if r.status != 201: state['fail'] += 1
            w = wal(); state['maxwal'] = max(state['maxwal'], w)
            if state['done'] % 10000 == 0:
                print('%d devices: WAL %.1f MiB (max so far %.1f MiB)' % (state['done'], w / 2**20, state['maxwal'] / 2**20), flush=True)
ts = [threading.Thread(target=worker) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print('failures %d, largest WAL %.1f MiB' % (state['fail'], state['maxwal'] / 2**20))
