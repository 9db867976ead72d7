/**
 * A differential test of what `parseShell` reads of `docker create`/`run`/`exec` (the host
 * directories a container may write, and whether it gets the host's power) against the real
 * docker CLI. The CLI is run on each line, through bash, against a fake Docker Engine API on a
 * unix socket; the JSON it sends to `POST /containers/create` (or `/containers/{id}/exec`) is read
 * the way the daemon reads it (moby's Linux mount parser, capability and security-option
 * checks), and what the container gets is compared with the reader's view.
 *
 * Lines where the two disagree carry `known`: the disagreement as this test words it, asserted
 * to still be there, so that a fix (or a new difference) shows. Needs `docker` (the CLI only, no
 * daemon) and `bash` on PATH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePath } from '../src/paths.js';
import { parseShell } from '../src/shell.js';
// The reader's judgement of which capabilities and devices stay in the container; what docker
// sends is read here independently.
import { CONTAINED_CAPABILITIES, CONTAINED_DEVICE } from '../src/shell-containers.js';

interface Case {
  readonly line: string;
  /** The disagreement, as `differences` words it: a bypass or a false positive. */
  readonly known?: string;
}

const CORPUS: readonly Case[] = [
  // Everyday mounts.
  { line: 'docker create -v "$PWD:/app" -w /app node:20 npm test' },
  { line: 'docker create -v "$(pwd)":/w img' },
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
  { line: 'docker create -v "${PWD}/out:/out" img' },
  { line: 'docker create --volume="$PWD"/out:/w img' },
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
  { line: 'docker create -v "${PWD}/..:/up" img' },
  { line: 'docker create -v ./src:/src img' },
  { line: 'docker create -v .:/w img' },
  { line: 'docker create -v ~/.ssh:/root/.ssh:ro img' },
  { line: 'docker create -v ~/.cache:/c img' },
  { line: 'docker create -v "$HOME/.aws:/a" img' },
  { line: 'docker create -v data:/var/lib/data img' },
  { line: 'docker create -v /cache img' },
  { line: 'docker create -v /etc:/e img' },
  { line: 'docker create -v /etc:/e:ro img' },
  { line: 'docker create -v /etc:/e:ro,z img' },
  { line: 'docker create -v /etc:/e:Z img' },
  { line: 'docker create -v /etc:/e:z,ro img' },
  { line: 'docker create -v /etc:/e:rprivate,ro img' },
  { line: 'docker create -v /etc:/e:nocopy img' },
  { line: 'docker create -v /etc:/e --read-only img' },
  { line: 'docker create -e FOO=1 --env-file /dev/null -v /etc:/e img' },
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly img' },
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly=false img' },
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,ro=true img' },
  { line: 'docker create --mount type=bind,source=/etc,target=/e,readonly=0 img' },
  { line: 'docker create --mount type=bind,source=/etc,destination=/e,ro=0 img' },
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly=True img' },
  { line: 'docker create --mount type=volume,src=v,dst=/v img' },
  { line: 'docker create --mount src=v,dst=/v img' },
  { line: 'docker create --mount type=tmpfs,dst=/t img' },
  { line: 'docker create --tmpfs /x img' },
  { line: 'docker create --mount type=bind,source=./rel,target=/r img' },
  { line: 'docker create --mount "type=bind,src=$PWD,dst=/w" img' },
  { line: 'docker create --mount type=bind,src="$HOME",dst=/w img' },
  {
    line: 'docker create --mount type=volume,dst=/v,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc img',
  },
  {
    line: 'docker create --mount type=volume,dst=/v,volume-opt=o=bind,volume-opt=device=/etc,readonly img',
  },
  { line: 'docker create --mount type=volume,dst=/v,volume-opt=device=/,volume-opt=o=bind img' },
  // Options that give (or do not give) the host's power.
  { line: 'docker create --network host img' },
  { line: 'docker create --cap-add NET_ADMIN img' },
  { line: 'docker create --cap-add sys_ptrace img' },
  { line: 'docker create --cap-add CAP_SYS_ADMIN img' },
  { line: 'docker create --cap-add ALL img' },
  { line: 'docker create --cap-add all img' },
  { line: 'docker create --cap-add NET_ADMIN --cap-drop ALL img' },
  // docker does not split the value: the daemon refuses "CAP_SYS_ADMIN,NET_ADMIN".
  { line: 'docker create --cap-add=SYS_ADMIN,NET_ADMIN img', known: 'false positive: host access' },
  { line: 'docker create --cap-add=NET_ADMIN,NET_RAW img' },
  { line: "docker create --cap-add ' SYS_ADMIN' img", known: 'false positive: host access' },
  { line: 'docker create --cap-add CAP_ALL img', known: 'false positive: host access' },
  { line: 'docker create --device /dev/sda img' },
  { line: 'docker create --device /dev/sda:/dev/xvda:rwm img' },
  { line: 'docker create --device /dev/./sda img' },
  { line: 'docker create --device /dev/dri img' },
  { line: 'docker create --device=/dev/fuse img' },
  // The CLI cleans the path, and so does the reader: the container gets /dev/sda and /dev/mem.
  { line: 'docker create --device /dev/dri/../sda img' },
  { line: 'docker create --device /dev/bus/usb/../../mem img' },
  // A CDI name goes to DeviceRequests (driver cdi), not Devices.
  { line: 'docker create --device nvidia.com/gpu=all img', known: 'false positive: host access' },
  { line: `docker create --device-cgroup-rule 'b *:* rwm' img` },
  { line: 'docker create --gpus all img' },
  { line: 'docker create --pid=host img' },
  { line: 'docker create --pid host img' },
  { line: 'docker create --pid HOST img' },
  { line: 'docker create --pid container:x img' },
  { line: 'docker create --userns=host img' },
  { line: 'docker create --security-opt seccomp=unconfined img' },
  { line: 'docker create --security-opt apparmor:unconfined img' },
  { line: 'docker create --security-opt no-new-privileges img' },
  { line: 'docker create --security-opt label=disable img' },
  { line: 'docker create --security-opt label:type:spc_t img' },
  { line: 'docker create --security-opt systempaths=unconfined img' },
  { line: 'docker create --security-opt disable img' },
  { line: 'docker create --security-opt writable-cgroups=false img' },
  { line: 'docker create --security-opt label=type:unconfined_t img' },
  // Docker 28: the cgroup file system writable; on a cgroup v1 host, release_agent escapes.
  { line: 'docker create --security-opt writable-cgroups=true img' },
  // The CLI reads a file named UNCONFINED as a seccomp profile, and has none.
  {
    line: 'docker create --security-opt seccomp=UNCONFINED img',
    known: 'false positive: host access',
  },
  { line: 'docker create --privileged img' },
  { line: 'docker create --privileged=true img' },
  { line: 'docker create --privileged=false img' },
  { line: 'docker create --use-api-socket img' },
  // Another container's mounts: the reader counts them as paths only known at run time.
  { line: 'docker create --volumes-from x img' },
  { line: 'docker create -v /var/run/docker.sock:/var/run/docker.sock:ro img' },
  { line: 'docker create --mount type=bind,src=/var/run/docker.sock,dst=/s,readonly img' },
  { line: 'docker create -v /run/containerd:/c:ro img' },
  { line: 'docker create -v /proc:/p img' },
  { line: 'docker create -v /proc:/p:ro img' },
  { line: 'docker create -v /sys/fs/cgroup:/c img' },
  // `-v`: clusters, attached values, `=`, abbreviations, paths docker cleans, bad modes.
  { line: 'docker create -itv /:/h img' },
  { line: 'docker create -v/:/h img' },
  { line: 'docker create --volume=/:/h img' },
  // pflag reads `-v=VALUE` as `-v VALUE`.
  { line: 'docker create -v=/:/h img' },
  { line: 'docker create -tv=/etc:/e img' },
  { line: 'docker create --volume==/etc:/e img' },
  // pflag takes no abbreviation.
  { line: 'docker create --vol /:/h img', known: 'false positive: unknown command' },
  { line: 'docker create --priv img', known: 'false positive: host access' },
  { line: 'docker create -v /:/h:ro img' },
  { line: 'docker create -v /:/h:rw img' },
  { line: 'docker create -v //:/h img' },
  { line: 'docker create -v /tmp/../etc:/e img' },
  { line: 'docker create -v /etc/:/e img' },
  { line: 'docker create -v /etc:/e:ro,rw img' },
  { line: 'docker create -v /etc:/e:RO img', known: 'false positive: writes /etc' },
  { line: 'docker create -v /etc:ro img', known: 'false positive: writes /etc' },
  { line: 'docker create -v /etc:/ img', known: 'false positive: writes /etc' },
  // Quoted, `~` reaches docker, which takes it for a volume's name.
  { line: "docker create -v '~:/r' img", known: 'false positive: writes ~' },
  // bash expands `~root` and `~+` (the working directory), also before a `:`; so does the reader.
  { line: 'docker create -v ~root:/r img' },
  { line: 'docker create -v ~+:/w img' },
  { line: 'docker create -v ~+/x:/w img' },
  // `--mount`: CSV, key and value case, repeated keys, values docker refuses.
  { line: 'docker create --mount type=BIND,source=/etc,target=/e img' },
  { line: 'docker create --mount Type=bind,Source=/etc,Target=/e img' },
  { line: 'docker create --mount TYPE=bind,SRC=/etc,DST=/e,READONLY img' },
  { line: 'docker create --mount type=bind,source=/,target=/h,bind-propagation=rshared img' },
  { line: 'docker create --mount type=bind,source=/etc,target=/e,type=volume img' },
  { line: 'docker create --mount type=volume,source=/etc,target=/e,type=bind img' },
  { line: 'docker create --mount type=bind,source=/etc,target=/e,readonly,readonly=false img' },
  { line: `docker create --mount 'type=bind,"source=/etc",target=/e' img` },
  { line: `docker create --mount 'type=bind,source=/etc,target=/e,"readonly"' img` },
  {
    line: `docker create --mount 'type=bind,source="/etc",target=/e' img`,
    known: 'false positive: writes $type=bind,source="/etc",target=/e; false positive: host access',
  },
  // Go's strconv.ParseBool: t and T are true; yes is refused.
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly=t img' },
  {
    line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly=yes img',
    known: 'false positive: writes /etc',
  },
  {
    line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly=tRuE img',
    known: 'false positive: writes /etc',
  },
  // docker reads the first CSV record only: what follows a newline is not read.
  { line: "docker create --mount $'type=bind,src=/etc,dst=/e\\n,readonly' img" },
  { line: "docker create --mount $'type=bind,src=/proc,dst=/p\\n,readonly' img" },
  { line: "docker create --mount $'type=bind,src=/etc,dst=/e\\n,type=tmpfs' img" },
  // Read-only, but not the mounts under /etc: those stay writable.
  { line: 'docker create --mount type=bind,src=/etc,dst=/e,readonly,bind-recursive=writable img' },
  {
    line: "docker create --mount 'type=bind, source=/etc,target=/e' img",
    known: 'false positive: writes /etc',
  },
  {
    line: 'docker create --mount type=bind,source=/etc,target=/e,foo=bar img',
    known: 'false positive: writes /etc',
  },
  {
    line: 'docker create --mount type=bind,source=~,target=/r img',
    known: 'false positive: writes ~',
  },
  {
    line: 'docker create --mount type=bind,source=rel,target=/r img',
    known: 'false positive: writes rel',
  },
  {
    line: 'docker create --mount type=volume,dst=/v,volume-opt=device=/etc,volume-opt=device img',
    known: 'false positive: writes /etc',
  },
  // Where docker's options end.
  { line: 'docker create img -v /:/h' },
  { line: 'docker create -v /etc:/e -- img' },
  { line: 'docker create --entrypoint sh -v /etc:/e img' },
  // Other ways in: subcommand groups, global options, run and exec.
  { line: 'docker container create -v /etc:/e img' },
  { line: 'docker --context default create -v /etc:/e img' },
  { line: 'docker -D create -v /etc:/e img' },
  { line: 'docker -l error create --privileged img' },
  { line: 'docker create --platform linux/amd64 -v /etc:/e img' },
  { line: 'docker run -d --rm -v "$PWD:/app" img' },
  { line: 'docker container run -d --privileged img' },
  { line: 'docker exec --privileged c sh' },
  { line: 'docker exec -d --privileged c sh' },
  { line: 'docker container exec --privileged c sh' },
  { line: 'docker exec --privileged=true c sh' },
  { line: 'docker exec -u 0 c sh' },
];

// ---- Node's modules, loaded at run time: @kvlar/core's tsconfig has no Node types. ----

interface Request {
  readonly method?: string;
  readonly url?: string;
  setEncoding(encoding: 'utf8'): void;
  on(event: 'data', listener: (chunk: string) => void): void;
  on(event: 'end', listener: () => void): void;
}
interface Response {
  writeHead(status: number, headers: Record<string, string>): void;
  end(body?: string): void;
}
interface Server {
  listen(path: string, ready: () => void): void;
  once(event: 'error', listener: (error: Error) => void): void;
  close(done: () => void): void;
  closeAllConnections(): void;
}
interface ExecError extends Error {
  readonly code?: number | string;
  readonly killed?: boolean;
}
interface NodeModules {
  readonly http: {
    createServer(listener: (request: Request, response: Response) => void): Server;
  };
  readonly childProcess: {
    execFile(
      file: string,
      args: readonly string[],
      options: { cwd: string; env: Record<string, string>; timeout: number; encoding: 'utf8' },
      done: (error: ExecError | null, stdout: string, stderr: string) => void,
    ): void;
  };
  readonly fs: {
    mkdtempSync(prefix: string): string;
    mkdirSync(path: string): void;
    realpathSync(path: string): string;
    rmSync(path: string, options: { recursive: true; force: true }): void;
  };
  readonly os: { tmpdir(): string };
  readonly path: {
    join(...parts: string[]): string;
  };
}

const load = async <T>(name: string): Promise<T> => (await import(name)) as T;
const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
  .process.env;

// ---- The fake engine: answers what `docker create`, `run -d` and `exec` ask, keeps the body. ----

const DOCKER_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;
const HEADERS = {
  'Api-Version': '1.47',
  Ostype: 'linux',
  'Docker-Experimental': 'false',
  'Content-Type': 'application/json',
};

/** The request that tells what the container gets, as the CLI sent it. */
interface Sent {
  readonly kind: 'create' | 'exec';
  readonly body: unknown;
}

interface Outcome {
  readonly sent?: Sent;
  /** Every request, `METHOD /path` without the API version. */
  readonly requests: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  readonly timedOut: boolean;
}

interface Dirs {
  readonly root: string;
  readonly cwd: string;
  readonly home: string;
  readonly sockets: string;
  readonly config: string;
}

function answer(method: string, path: string, body: string, sent: Sent[], response: Response) {
  const json = (status: number, value: unknown) => {
    response.writeHead(status, HEADERS);
    response.end(JSON.stringify(value));
  };
  if (path === '/_ping') {
    response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/plain' });
    response.end(method === 'HEAD' ? undefined : 'OK');
  } else if (method === 'GET' && path === '/version') {
    json(200, { Version: '28.2.2', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux' });
  } else if (method === 'GET' && path === '/info') {
    json(200, { OSType: 'linux', Name: 'fake' });
  } else if (method === 'POST' && path === '/containers/create') {
    sent.push({ kind: 'create', body: JSON.parse(body) });
    json(201, { Id: 'abc', Warnings: [] });
  } else if (method === 'GET' && /^\/containers\/[^/]+\/json$/.test(path)) {
    json(200, { Id: 'abc', State: { Running: true, Status: 'running' }, Config: {} });
  } else if (method === 'POST' && /^\/containers\/[^/]+\/exec$/.test(path)) {
    sent.push({ kind: 'exec', body: JSON.parse(body) });
    json(201, { Id: 'e1' });
  } else if (method === 'POST' && /^\/containers\/[^/]+\/start$/.test(path)) {
    response.writeHead(204, HEADERS);
    response.end();
  } else if (method === 'POST' && /^\/containers\/[^/]+\/wait$/.test(path)) {
    json(200, { StatusCode: 0 });
  } else if (
    method === 'POST' &&
    /^\/exec\/[^/]+\/start$/.test(path) &&
    /"Detach":true/.test(body)
  ) {
    // A detached exec starts without attaching; an attached one asks to upgrade the connection,
    // which the fake does not do: the CLI has sent the exec by then.
    json(200, {});
  } else {
    json(404, { message: `the fake engine does not answer ${method} ${path}` });
  }
}

async function runDocker(node: NodeModules, dirs: Dirs, line: string, index: number) {
  const socket = node.path.join(dirs.sockets, `${index}.sock`);
  const sent: Sent[] = [];
  const requests: string[] = [];
  const server = node.http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const method = request.method ?? '';
      const path = (request.url ?? '').replace(/\?.*/, '').replace(/^\/v[0-9.]+\//, '/');
      requests.push(`${method} ${path}`);
      answer(method, path, body, sent, response);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  try {
    const { error, stderr } = await new Promise<{ error: ExecError | null; stderr: string }>(
      (resolve) => {
        node.childProcess.execFile(
          'bash',
          ['-c', line],
          {
            cwd: dirs.cwd,
            env: {
              PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
              HOME: dirs.home,
              DOCKER_HOST: `unix://${socket}`,
              DOCKER_CONFIG: dirs.config,
              DOCKER_CLI_HINTS: 'false',
            },
            timeout: DOCKER_TIMEOUT_MS,
            encoding: 'utf8',
          },
          (error, _stdout, stderr) => resolve({ error, stderr }),
        );
      },
    );
    const outcome: Outcome = {
      requests,
      exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
      stderr,
      timedOut: error?.killed === true,
      ...(sent[0] === undefined ? {} : { sent: sent[0] }),
    };
    return outcome;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function runAll(node: NodeModules, dirs: Dirs, lines: readonly string[]) {
  const outcomes = new Map<string, Outcome>();
  let next = 0;
  const worker = async () => {
    while (next < lines.length) {
      const index = next++;
      outcomes.set(lines[index]!, await runDocker(node, dirs, lines[index]!, index));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

// ---- The daemon's reading of what the CLI sent (moby, Linux). ----

/** What the container gets of the host, by docker. */
interface Truth {
  /** Docker (the CLI, or the daemon as modelled here) refuses the line: nothing runs. */
  readonly refused?: string;
  /** Host paths the container may write, as `.`-relative, `~`-relative or absolute paths. */
  readonly writes: readonly string[];
  /** Why it has the host's power; empty if it has not. */
  readonly host: readonly string[];
  /** What the line cannot tell (`--volumes-from`: another container's mounts). */
  readonly unknown: readonly string[];
}

/** The capabilities the daemon knows; it refuses any other name. */
const KNOWN_CAPABILITIES = new Set(
  (
    'CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE ' +
    'NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO ' +
    'SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME ' +
    'SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG ' +
    'WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE'
  ).split(' '),
);
/** Go's `path.Clean` for an absolute path. */
function clean(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** moby's `linuxValidMountMode`: each kind of mode at most once, nothing else. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const kinds = [
    ['rw', 'ro'],
    ['z', 'Z'],
    ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'],
    ['nocopy'],
    ['consistent', 'cached', 'delegated'],
  ];
  const counts = kinds.map(() => 0);
  for (const option of mode.split(',')) {
    const kind = kinds.findIndex((names) => names.includes(option));
    if (kind === -1) return false;
    counts[kind]!++;
  }
  return counts.every((count) => count <= 1);
}

function validTarget(target: string | undefined): boolean {
  return target?.startsWith('/') === true && clean(target) !== '/';
}

function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

/** A host path mounted into the container, cleaned; `writable` if the container may write it. */
interface HostMount {
  readonly path: string;
  readonly writable: boolean;
}

/** moby's `ParseMountRaw` (Linux) for one `Binds` entry. */
function readBind(raw: string): HostMount | undefined | string {
  const parts = raw.split(':');
  const arr = parts.length > 4 ? [...parts.slice(0, 3), parts.slice(3).join(':')] : parts;
  if (arr[0] === '') return `invalid volume specification ${raw}`;
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    if (validMode(arr[1]!)) return `invalid volume specification ${raw}`;
    [source, target] = [arr[0], arr[1]!];
  } else if (arr.length === 3) [source, target, mode] = [arr[0], arr[1]!, arr[2]!];
  else return `invalid volume specification ${raw}`;
  if (!validMode(mode)) return `invalid mode: ${mode}`;
  if (!validTarget(target)) return `invalid mount target ${target}`;
  // Not absolute: a named volume (or one the daemon refuses by name); no host path either way.
  if (source === undefined || !source.startsWith('/')) return undefined;
  return { path: clean(source), writable: !mode.split(',').includes('ro') };
}

interface MountSpec {
  readonly Type?: string;
  readonly Source?: string;
  readonly Target?: string;
  readonly ReadOnly?: boolean;
  readonly BindOptions?: { readonly ReadOnlyNonRecursive?: boolean };
  readonly VolumeOptions?: {
    readonly DriverConfig?: { readonly Options?: Readonly<Record<string, string>> };
  };
}

/** moby's `validateMountConfig` (Linux) for one `Mounts` entry, and the host path it binds. */
function readMount(mount: MountSpec): HostMount | undefined | string {
  if (!validTarget(mount.Target)) return `invalid mount target ${mount.Target}`;
  switch (mount.Type) {
    case 'bind': {
      const source = mount.Source ?? '';
      if (!source.startsWith('/')) return `bind source must be absolute: ${source}`;
      if (mount.VolumeOptions !== undefined) return 'VolumeOptions on a bind mount';
      // `readonly,bind-recursive=writable`: the mounts under the source stay writable.
      const writable = mount.ReadOnly !== true || mount.BindOptions?.ReadOnlyNonRecursive === true;
      return { path: clean(source), writable };
    }
    case 'volume': {
      if (mount.BindOptions !== undefined) return 'BindOptions on a volume';
      if (mount.ReadOnly === true && (mount.Source ?? '') === '') {
        return 'read-only anonymous volume';
      }
      // The local driver mounts `device` (with `o=bind`, a host directory).
      const device = mount.VolumeOptions?.DriverConfig?.Options?.device;
      if (device === undefined || !device.startsWith('/')) return undefined;
      return { path: clean(device), writable: mount.ReadOnly !== true };
    }
    case 'tmpfs':
    case 'image':
      return undefined;
    default:
      return `mount type unknown: ${mount.Type}`;
  }
}

/** moby's `parseSecurityOpt`; an option that turns confinement off is host access. */
function readSecurityOption(option: string): 'host' | 'refused' | undefined {
  if (option === 'no-new-privileges') return undefined;
  if (option === 'disable') return 'host';
  const separator = option.includes('=') ? '=' : option.includes(':') ? ':' : undefined;
  if (separator === undefined) return 'refused';
  const at = option.indexOf(separator);
  const [key, value] = [option.slice(0, at), option.slice(at + 1)];
  switch (key) {
    case 'label':
      // A process type of the caller's choosing (`spc_t`, `unconfined_t`, …), as the reader judges.
      return value === 'disable' || value.startsWith('type:') ? 'host' : undefined;
    case 'apparmor':
    case 'seccomp':
      // Any other seccomp value is a profile's JSON, which the CLI read from a file.
      return value === 'unconfined' ? 'host' : undefined;
    case 'no-new-privileges':
      return parseBool(value) === undefined ? 'refused' : undefined;
    case 'writable-cgroups': {
      // Docker 28: cgroupfs writable; on a cgroup v1 host, release_agent runs on the host.
      const writable = parseBool(value);
      return writable === undefined ? 'refused' : writable ? 'host' : undefined;
    }
    default:
      return 'refused';
  }
}

interface HostConfig {
  readonly Binds?: readonly string[] | null;
  readonly Mounts?: readonly MountSpec[] | null;
  readonly Privileged?: boolean;
  readonly PidMode?: string;
  readonly UsernsMode?: string;
  readonly CapAdd?: readonly string[] | null;
  readonly Devices?: readonly { readonly PathOnHost: string }[] | null;
  readonly DeviceCgroupRules?: readonly string[] | null;
  readonly SecurityOpt?: readonly string[] | null;
  readonly MaskedPaths?: readonly string[] | null;
  readonly ReadonlyPaths?: readonly string[] | null;
  readonly VolumesFrom?: readonly string[] | null;
}

function truthOf(outcome: Outcome, dirs: Dirs, socket: string): Truth {
  const refused = (reason: string): Truth => ({
    refused: reason,
    writes: [],
    host: [],
    unknown: [],
  });
  if (outcome.sent === undefined) {
    const said = outcome.stderr.trim().split('\n')[0] ?? '';
    return refused(`by the CLI (exit ${outcome.exitCode}): ${said}`);
  }
  const host: string[] = [];
  if (outcome.sent.kind === 'exec') {
    const body = outcome.sent.body as { Privileged?: boolean };
    return { writes: [], host: body.Privileged === true ? ['exec privileged'] : [], unknown: [] };
  }
  const config = ((outcome.sent.body as { HostConfig?: HostConfig }).HostConfig ??
    {}) as HostConfig;
  if (config.Privileged === true) host.push('privileged');
  if (config.PidMode === 'host') host.push('pid host');
  if (config.UsernsMode === 'host') host.push('userns host');
  for (const written of config.CapAdd ?? []) {
    let name = written.toUpperCase();
    if (name !== 'ALL') {
      if (!name.startsWith('CAP_')) name = `CAP_${name}`;
      if (!KNOWN_CAPABILITIES.has(name.slice(4))) {
        return refused(`by the daemon: unknown capability ${JSON.stringify(name)}`);
      }
      name = name.slice(4);
    }
    if (!CONTAINED_CAPABILITIES.has(name)) host.push(`cap ${name}`);
  }
  for (const device of config.Devices ?? []) {
    if (!CONTAINED_DEVICE.test(clean(device.PathOnHost))) host.push(`device ${device.PathOnHost}`);
  }
  for (const rule of config.DeviceCgroupRules ?? []) host.push(`device rule ${rule}`);
  for (const option of config.SecurityOpt ?? []) {
    const read = readSecurityOption(option);
    if (read === 'refused') return refused(`by the daemon: invalid --security-opt ${option}`);
    if (read === 'host') host.push(`security-opt ${option}`);
  }
  // `--security-opt systempaths=unconfined`, which the CLI turns into empty lists.
  if (config.MaskedPaths?.length === 0 || config.ReadonlyPaths?.length === 0) {
    host.push('systempaths unconfined');
  }
  const mounts: HostMount[] = [];
  for (const bind of config.Binds ?? []) {
    const read = readBind(bind);
    if (typeof read === 'string') return refused(`by the daemon: ${read}`);
    if (read !== undefined) mounts.push(read);
  }
  for (const mount of config.Mounts ?? []) {
    const read = readMount(mount);
    if (typeof read === 'string') return refused(`by the daemon: ${read}`);
    if (read !== undefined) mounts.push(read);
  }
  const writes: string[] = [];
  for (const { path, writable } of mounts) {
    if (path === '/' || path.endsWith('.sock') || /^\/(var\/)?run(\/|$)/.test(path)) {
      host.push(`mount ${path}`);
    } else if (writable && /^\/(proc|sys|dev)(\/|$)/.test(path)) {
      host.push(`writable mount ${path}`);
    }
    // `--use-api-socket` mounts the engine's socket: host access, not a directory written.
    if (writable && path !== socket) writes.push(asWritten(path, dirs));
  }
  const unknown = (config.VolumesFrom ?? []).map((from) => `the mounts of container ${from}`);
  return { writes, host, unknown };
}

/** The test's working directory is `.`, its HOME `~`, as the reader writes them. */
function asWritten(path: string, dirs: Dirs): string {
  const under = (base: string) => path === base || path.startsWith(`${base}/`);
  if (under(dirs.cwd)) return path === dirs.cwd ? '.' : path.slice(dirs.cwd.length + 1);
  if (under(dirs.home)) return `~${path.slice(dirs.home.length)}`;
  // The working directory is a directory of root: root is `..`.
  if (under(dirs.root)) return `..${path.slice(dirs.root.length)}`;
  return path;
}

// ---- The reader's view, and the comparison. ----

interface View {
  /** The line does not parse, or a command in it is only known at run time: it fails closed. */
  readonly unknown: readonly string[];
  readonly writes: readonly { readonly text: string; readonly dynamic: boolean }[];
  readonly hostAccess: boolean;
}

function viewOf(line: string): View {
  const result = parseShell(line);
  if (!result.ok)
    return { unknown: [`does not parse: ${result.reason}`], writes: [], hostAccess: false };
  return {
    unknown: result.commands.filter((command) => command.programUnknown).map((c) => c.program),
    writes: result.commands.flatMap((command) =>
      command.writesTo.map((path) => ({
        text: path.dynamic ? path.text : normalizePath(path.text),
        dynamic: path.dynamic,
      })),
    ),
    hostAccess: result.commands.some((command) => command.hostAccess),
  };
}

/** `base` is `path` or a directory above it (both normalised; `.` holds every relative path). */
function covers(base: string, path: string): boolean {
  if (base === path || base === '/') return base === path || path.startsWith('/');
  if (base === '.') return !/^(\/|~|\.\.(\/|$))/.test(path);
  return path.startsWith(`${base}/`);
}

/** Where the reader sees less than docker (a bypass) or more (a false positive); '' if neither. */
function differences(truth: Truth, view: View): string {
  const found: string[] = [];
  const closed = view.unknown.length > 0;
  const dynamic = view.writes.some((path) => path.dynamic);
  for (const path of truth.writes) {
    if (closed || view.writes.some((seen) => seen.dynamic || covers(seen.text, path))) continue;
    found.push(`bypass: writes ${path}`);
  }
  if (truth.host.length > 0 && !view.hostAccess && !closed) found.push('bypass: host access');
  if (truth.unknown.length > 0 && !closed && !dynamic && !view.hostAccess) {
    found.push('bypass: reach not known from the line');
  }
  for (const seen of view.writes) {
    if (
      seen.dynamic
        ? truth.writes.length > 0 || truth.unknown.length > 0
        : truth.writes.some((path) => covers(path, seen.text))
    ) {
      continue;
    }
    found.push(`false positive: writes ${seen.dynamic ? '$' : ''}${seen.text}`);
  }
  if (view.hostAccess && truth.host.length === 0 && truth.unknown.length === 0) {
    found.push('false positive: host access');
  }
  const nothing = truth.writes.length === 0 && truth.host.length === 0;
  if (closed && nothing && truth.unknown.length === 0)
    found.push('false positive: unknown command');
  return found.join('; ');
}

function showTruth(truth: Truth): string {
  if (truth.refused !== undefined) return `refused ${truth.refused}`;
  const host = truth.host.length > 0 ? `yes (${truth.host.join(', ')})` : 'no';
  const unknown = truth.unknown.length > 0 ? `; also ${truth.unknown.join(', ')}` : '';
  return `writes [${truth.writes.join(', ')}]; host access ${host}${unknown}`;
}

function showView(view: View): string {
  const writes = view.writes.map((path) => `${path.dynamic ? '$' : ''}${path.text}`);
  const unknown = view.unknown.length > 0 ? `; unknown command ${view.unknown.join(', ')}` : '';
  return `writes [${writes.join(', ')}]; host access ${view.hostAccess ? 'yes' : 'no'}${unknown}`;
}

// ---- The test. ----

describe('parseShell against the docker CLI', () => {
  let node: NodeModules | undefined;
  let dirs: Dirs | undefined;
  let outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    const modules: NodeModules = {
      http: await load('node:http'),
      childProcess: await load('node:child_process'),
      fs: await load('node:fs'),
      os: await load('node:os'),
      path: await load('node:path'),
    };
    node = modules;
    const { fs, os, path } = modules;
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kvlar-docker-')));
    const made: Dirs = {
      root,
      cwd: path.join(root, 'cwd'),
      home: path.join(root, 'home'),
      sockets: path.join(root, 's'),
      config: path.join(root, 'config'),
    };
    dirs = made;
    for (const dir of [made.cwd, made.home, made.sockets, made.config]) fs.mkdirSync(dir);
    const version = await new Promise<string>((resolve, reject) =>
      modules.childProcess.execFile(
        'docker',
        ['--version'],
        {
          cwd: made.cwd,
          env: { PATH: env.PATH ?? '' },
          timeout: DOCKER_TIMEOUT_MS,
          encoding: 'utf8',
        },
        (error, stdout) =>
          error === null
            ? resolve(stdout)
            : reject(
                new Error(
                  `this test runs the docker CLI (no daemon needed), which is not on PATH or does not run: ${error.message}`,
                ),
              ),
      ),
    );
    expect(version).toMatch(/^Docker version /);
    outcomes = await runAll(
      modules,
      made,
      CORPUS.map((entry) => entry.line),
    );
  }, 120_000);

  afterAll(() => {
    if (node !== undefined && dirs !== undefined) {
      node.fs.rmSync(dirs.root, { recursive: true, force: true });
    }
  });

  it('has no line twice', () => {
    expect(new Set(CORPUS.map((entry) => entry.line)).size).toBe(CORPUS.length);
  });

  // Titled by the line alone, so that docs/security.md can cite a line; a failure says whether
  // the line's disagreement was known.
  it.each(CORPUS.map((entry) => entry.line))('%s', (line) => {
    const index = CORPUS.findIndex((entry) => entry.line === line);
    const known = CORPUS[index]?.known;
    const outcome = outcomes.get(line);
    if (outcome === undefined || dirs === undefined) throw new Error('docker did not run');
    if (outcome.timedOut) {
      throw new Error(`docker did not finish in ${DOCKER_TIMEOUT_MS / 1000} s: ${line}`);
    }
    const socket = `${dirs.sockets}/${index}.sock`;
    const truth = truthOf(outcome, dirs, socket);
    const view = viewOf(line);
    const found = differences(truth, view);
    const report = [
      `line:   ${line}`,
      `docker: ${showTruth(truth)}`,
      `reader: ${showView(view)}`,
      `requests: ${outcome.requests.join(', ') || 'none'}`,
    ].join('\n');
    if (known === undefined) expect(found, `the reader and docker disagree\n${report}`).toBe('');
    else expect(found, `the known disagreement changed\n${report}`).toBe(known);
  });
});
