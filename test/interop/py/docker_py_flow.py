# docker-py (Debian's python3-docker, unchanged) against a daemon: prints one JSON object of what
# each step saw; test/interop/docker-py.test.ts runs it against Berth and checks the values.
import io
import json
import sys
import tarfile
import time

import docker

host, image = sys.argv[1], sys.argv[2]
client = docker.DockerClient(base_url=host, version='auto')
seen = {}


def step(name, fn):
    try:
        seen[name] = fn()
    except Exception as e:  # the test compares the error type and status too
        seen[name] = {'error': type(e).__name__, 'status': getattr(e, 'status_code', None), 'text': str(e)}


step('ping', client.ping)
step('run', lambda: client.containers.run(image, ['sh', '-c', 'echo out; echo err >&2'], remove=True).decode())
step('run_exit', lambda: client.containers.run(image, ['sh', '-c', 'exit 3'], remove=True))
step('run_tty', lambda: client.containers.run(image, ['tty'], tty=True, remove=True).decode().strip())
# The shell is PID 1: without a trap, SIGTERM would not end it (as under Docker).
c = client.containers.run(image, ['sh', '-c', 'trap "exit 143" TERM; echo started; while :; do sleep 0.1; done'], detach=True, name=sys.argv[3],
                          environment={'FOO': 'bar'}, labels={'berth.test': 'py'}, ports={'8080/tcp': ('127.0.0.1', None)})
for _ in range(100):
    if b'started' in c.logs():
        break
    time.sleep(0.05)
c.reload()
step('status', lambda: c.status)
step('labels', lambda: c.labels)
step('port_ip', lambda: c.ports['8080/tcp'][0]['HostIp'])
step('logs', lambda: c.logs().decode())
step('exec', lambda: (lambda r: [r.exit_code, r.output.decode()])(c.exec_run(['sh', '-c', 'echo $FOO; exit 4'])))
step('exec_demux', lambda: (lambda r: [r.exit_code, r.output[0].decode(), r.output[1].decode()])(
    c.exec_run(['sh', '-c', 'echo o; echo e >&2'], demux=True)))
step('exec_user_workdir', lambda: c.exec_run('sh -c "id -u; pwd"', user='1000', workdir='/tmp').output.decode())
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = b'put-data\n'
    info = tarfile.TarInfo('put.txt')
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
step('put_archive', lambda: c.put_archive('/tmp', buf.getvalue()))


def get_archive():
    bits, stat = c.get_archive('/tmp/put.txt')
    raw = b''.join(bits)
    return [stat['name'], stat['size'], tarfile.open(fileobj=io.BytesIO(raw)).extractfile('put.txt').read().decode()]


step('get_archive', get_archive)
step('get_archive_missing', lambda: c.get_archive('/berth-no-such'))
step('top', lambda: c.top()['Titles'][:2])
step('stats', lambda: sorted(k for k in c.stats(stream=False) if k in ('memory_stats', 'cpu_stats', 'networks', 'pids_stats')))
step('list_label', lambda: [x.name for x in client.containers.list(filters={'label': 'berth.test=py'})])
step('networks', lambda: sorted(n.name for n in client.networks.list()))
step('kill_wait', lambda: (c.kill(signal='SIGTERM'), c.wait(timeout=20)['StatusCode'])[1])
step('restart', lambda: (c.start(), c.reload(), c.status)[2])
step('stop', lambda: (c.stop(timeout=1), c.reload(), c.status)[2])
step('remove', lambda: c.remove(force=True))
step('get_removed', lambda: client.containers.get(sys.argv[3]))
step('image', lambda: client.images.get(image).attrs['Os'])
print(json.dumps(seen))
