# The sandbox container's PID 1 (docs/security.md, "The supervisor"). The worker talks to it over the container's
# attached stdin/stdout, so an experiment needs no `docker exec`. Frames both ways: 1 byte kind, 4 bytes big-endian
# length, payload. Worker -> supervisor: R run (u32 header length, JSON header, tar archive), K kill the program,
# C the chosen files (NUL-separated). Supervisor -> worker: r program started, F setup failed (JSON), o/e program
# stdout/stderr, x program ended (JSON), ! processes left, L listing, t tar data, z tar end (error text or empty).
# The program's output reaches the worker only through pipes read here, never the attach stream itself.
import ctypes
import io
import json
import os
import select
import signal
import stat
import struct
import tarfile

# Read before anything can change it: docker exec gave programs the container's environment as it was.
with open('/proc/self/environ', 'rb') as f:
    BASE_ENV = dict(e.split(b'=', 1) for e in f.read().split(b'\0') if b'=' in e)
# A program of the same uid must not ptrace this process nor open /proc/1/mem or /proc/1/fd (its attach stream).
if ctypes.CDLL(None).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE, 0
    raise SystemExit('cannot make the supervisor non-dumpable')

WORKSPACE = b'/workspace'
CHUNK = 65536
IN, OUT = 0, 1
program = None
program_status = None
inbuf = bytearray()


def kill_all():
    # From PID 1, kill(-1) reaches every other process of the container; no new process needed (fork bombs).
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass


# The kernel drops unhandled signals a namespace's own processes send to its init, but gVisor does not: ignore every
# signal but the two this process acts on (SIGKILL and SIGSTOP cannot be ignored; under gVisor they end or stop it).
CATCHABLE = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
for sig in CATCHABLE:
    signal.signal(sig, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, lambda *_: kill_all())
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)


def reap():
    global program_status
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == program:
            program_status = status


def wait_io(fds, timeout):
    ready = select.select(fds + [wake_r], [], [], timeout)[0]
    if wake_r in ready:
        try:
            os.read(wake_r, 4096)
        except BlockingIOError:
            pass
    reap()
    return ready


def send(kind, payload=b''):
    view = memoryview(struct.pack('>cI', kind, len(payload)) + payload)
    while view:
        view = view[os.write(OUT, view):]


def take_frame():
    if len(inbuf) < 5:
        return None
    kind, size = struct.unpack('>cI', inbuf[:5])
    if len(inbuf) < 5 + size:
        return None
    payload = bytes(inbuf[5 : 5 + size])
    del inbuf[: 5 + size]
    return kind, payload


def read_input():
    data = os.read(IN, 4 * CHUNK)
    if not data:
        # The worker closed the stream: nothing more will come; keep reaping orphans (as PID 1 must).
        while True:
            wait_io([], None)
    inbuf.extend(data)


def next_frame():
    while True:
        while (frame := take_frame()) is not None:
            # A kill that crossed the program's end has nothing left to kill.
            if frame[0] != b'K':
                return frame
        if IN in wait_io([IN], None):
            read_input()


def clear():
    for entry in os.scandir(WORKSPACE):
        if entry.name == b'input':
            continue
        if entry.is_dir(follow_symlinks=False):
            stack = [entry.path]
            dirs = []
            while stack:
                d = stack.pop()
                dirs.append(d)
                for sub in os.scandir(d):
                    if sub.is_dir(follow_symlinks=False):
                        stack.append(sub.path)
                    else:
                        os.unlink(sub.path)
            for d in reversed(dirs):
                os.rmdir(d)
        else:
            os.unlink(entry.path)


class FrameWriter:
    def __init__(self, kind):
        self.kind = kind

    def write(self, data):
        for at in range(0, len(data), CHUNK):
            send(self.kind, bytes(data[at : at + CHUNK]))
        return len(data)


def run(payload):
    global program, program_status
    (size,) = struct.unpack('>I', payload[:4])
    spec = json.loads(payload[4 : 4 + size])
    try:
        if spec['clear']:
            clear()
    except OSError as err:
        return send(b'F', json.dumps({'stage': 'clear', 'message': str(err)}).encode())
    try:
        with tarfile.open(fileobj=io.BytesIO(payload[4 + size :]), mode='r:') as archive:
            archive.extractall(WORKSPACE.decode())
    except (OSError, tarfile.TarError) as err:
        return send(b'F', json.dumps({'stage': 'unpack', 'message': str(err)}).encode())
    command = [c.encode() for c in spec['command']]
    env = dict(BASE_ENV)
    env.update({k.encode(): v.encode() for k, v in spec['env'].items()})
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.fork()
    except OSError as err:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        return send(b'F', json.dumps({'stage': 'start', 'message': str(err)}).encode())
    if pid == 0:
        code = 126
        try:
            os.setsid()
            null = os.open('/dev/null', os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, os.sysconf('SC_OPEN_MAX'))
            os.chdir(WORKSPACE)
            for sig in CATCHABLE:
                signal.signal(sig, signal.SIG_DFL)
            os.execvpe(command[0], command, env)
        except FileNotFoundError:
            code = 127
            os.write(2, b'exec: "%s": executable file not found in $PATH\n' % command[0])
        except BaseException as err:  # noqa: BLE001 - the child must never return into the supervisor
            os.write(2, f'{err}\n'.encode())
        os._exit(code)
    program, program_status = pid, None
    os.close(out_w)
    os.close(err_w)
    send(b'r')
    pipes = {out_r: b'o', err_r: b'e'}
    while program_status is None:
        for fd in wait_io([IN, *pipes], None):
            if fd == IN:
                read_input()
                while (frame := take_frame()) is not None:
                    if frame[0] == b'K':
                        kill_all()
            elif fd in pipes:
                data = os.read(fd, CHUNK)
                if data:
                    send(pipes[fd], data)
                else:
                    os.close(fd)
                    del pipes[fd]
    # What the program wrote before it ended is still in the pipes; what processes it left write later is dropped.
    for fd, kind in pipes.items():
        os.set_blocking(fd, False)
        try:
            while data := os.read(fd, CHUNK):
                send(kind, data)
        except BlockingIOError:
            pass
        os.close(fd)
    status = program_status
    program = None
    code = os.waitstatus_to_exitcode(status)
    send(b'x', json.dumps({'exitCode': code if code >= 0 else 128 - code}).encode())
    collect(spec['listingMaxBytes'])


def settle():
    """Ends every other process and waits until /proc shows only this one; returns how many are left."""
    left = []
    for _ in range(200):
        kill_all()
        reap()
        left = [p for p in os.listdir('/proc') if p.isdigit() and p != '1']
        if not left:
            return 0
        wait_io([], 0.05)
    return len(left)


TYPES = {stat.S_IFREG: b'f', stat.S_IFDIR: b'd', stat.S_IFLNK: b'l', stat.S_IFIFO: b'p', stat.S_IFSOCK: b's'}
TYPES.update({stat.S_IFCHR: b'c', stat.S_IFBLK: b'b'})


def listing(cap):
    """/workspace as `find -mindepth 1 -printf '%y %s %P\\0'` prints it, whole records up to `cap` bytes."""
    out = bytearray()
    stack = [b'']
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(WORKSPACE, rel) if rel else WORKSPACE))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = rel + b'/' + entry.name if rel else entry.name
            record = TYPES.get(stat.S_IFMT(st.st_mode), b'U') + b' %d ' % st.st_size + path + b'\0'
            if len(out) + len(record) > cap:
                return bytes(out)
            out += record
            if stat.S_ISDIR(st.st_mode):
                stack.append(path)
    return bytes(out)


def collect(cap):
    left = settle()
    if left:
        return send(b'!', b'%d processes left' % left)
    send(b'L', listing(cap))
    kind, payload = next_frame()
    if kind != b'C':
        return send(b'z', b'expected the chosen files')
    errors = []
    with tarfile.open(fileobj=FrameWriter(b't'), mode='w|', bufsize=CHUNK) as archive:
        for name in filter(None, payload.split(b'\0')):
            try:
                archive.add(os.fsdecode(os.path.join(WORKSPACE, name)), arcname=os.fsdecode(name), recursive=False)
            except OSError as err:
                errors.append(str(err))
    send(b'z', '; '.join(errors).encode()[:4096])


while True:
    kind, payload = next_frame()
    if kind == b'R':
        run(payload)
