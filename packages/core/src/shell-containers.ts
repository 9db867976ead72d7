/**
 * What a container gets of the host it runs on, read from the options of `docker`/`podman`
 * `run`, `create` and `exec` and of `kubectl debug`: the host directories it may write (bind
 * mounts, which `writes_to` sees as trees), and whether it gets the host's power outright
 * (`host_access`): privileged, capabilities or devices beyond the defaults, the host's processes
 * or user namespace, confinement turned off, the Docker socket, or a debugging pod on a node.
 * Each is a documented way from a container's root to the host's.
 */
import { normalizePath } from './paths.js';
import type { ShellWord, WrittenPath } from './shell.js';
import type { Given } from './shell-wrappers.js';

/** What a container command reaches on the host. */
export interface ContainerReach {
  /** Host directories (or files) mounted writable: the container may write anything under them. */
  readonly writes: readonly WrittenPath[];
  readonly hostAccess: boolean;
}

/**
 * Capabilities that give no way out of the container: Docker's default set (adding one is a
 * no-op) and a few that only touch the container's own processes, memory or network namespace
 * (`SYS_PTRACE` reaches the host's processes only with `--pid=host`, which is host access by
 * itself). Any other (`SYS_ADMIN`, `SYS_MODULE`, `DAC_READ_SEARCH`, `SYS_RAWIO`, `ALL`, …) is a
 * way out, or is not known here.
 */
export const CONTAINED_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
  'IPC_LOCK',
  'IPC_OWNER',
  'NET_ADMIN',
  'NET_BROADCAST',
  'SYS_NICE',
  'SYS_PTRACE',
  'SYS_RESOURCE',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'LEASE',
]);

/** Host devices commonly passed to a container that reach no disk, memory or kernel log. */
export const CONTAINED_DEVICE =
  /^\/dev\/(fuse|net\/tun|kvm|dri(\/[^:]*)?|snd(\/[^:]*)?|video\d+|nvidia[\w-]*|bus\/usb(\/[^:]*)?|tty(USB|ACM)\d+|null|zero|u?random)(:|$)/;

/**
 * `--security-opt` values that turn a confinement off (docker writes `=` or `:`): AppArmor,
 * seccomp or SELinux off, an SELinux type of the caller's choosing (`spc_t`, `unconfined_t`),
 * the kernel's masked paths unmasked, writable cgroups (an escape on cgroup v1 hosts).
 */
const UNCONFINED =
  /^((apparmor|seccomp)[=:]unconfined|label[=:](disable|type:.*)|systempaths=unconfined|unmask=.*|writable-cgroups(=(1|t|T|TRUE|true|True))?)$/i;

/** Go's `strconv.ParseBool` spellings of false: pflag reads `--privileged=false` with it. */
const GO_FALSE = /^(0|f|F|FALSE|false|False)$/;

/** docker and podman `run` and `create`. */
export function containerRunReach(given: readonly Given[]): ContainerReach {
  const writes: WrittenPath[] = [];
  let hostAccess = false;
  for (const entry of given) {
    const { option, value, dynamic } = entry;
    switch (option) {
      case 'privileged':
      case 'use-api-socket':
        if (isSet(entry)) hostAccess = true;
        break;
      case 'pid':
      case 'userns':
        // A value only known at run time may be `host`.
        if (dynamic === true || value === 'host') hostAccess = true;
        break;
      case 'cap-add':
        if (value === undefined || dynamic === true) hostAccess = true;
        else if (value.split(',').some((name) => !contained(name))) hostAccess = true;
        break;
      case 'device':
        if (dynamic === true || value === undefined || !containedDevice(value)) hostAccess = true;
        break;
      case 'device-cgroup-rule':
        hostAccess = true;
        break;
      case 'security-opt':
        if (dynamic === true || value === undefined || UNCONFINED.test(value)) hostAccess = true;
        break;
      case 'v':
      case 'volume':
        if (value !== undefined) hostAccess = volume(value, dynamic === true, writes) || hostAccess;
        break;
      case 'mount':
        if (value !== undefined) hostAccess = mount(value, dynamic === true, writes) || hostAccess;
        break;
      case 'volumes-from':
        // Another container's mounts, which the line cannot show: paths only known at run time.
        if (value !== undefined) writes.push({ text: value, dynamic: true, tree: true });
        break;
    }
  }
  return { writes, hostAccess };
}

/** docker and podman `exec`: only `--privileged` gives the process more than the container has. */
export function containerExecReach(given: readonly Given[]): ContainerReach {
  const privileged = given.some((entry) => entry.option === 'privileged' && isSet(entry));
  return { writes: [], hostAccess: privileged };
}

/** A boolean flag given, not given `=false` (a value only known at run time may be true). */
function isSet({ value, dynamic }: Given): boolean {
  return dynamic === true || value === undefined || !GO_FALSE.test(value);
}

/**
 * `kubectl debug node/NAME` starts a pod in the node's processes and network with its root file
 * system at `/host`; `--profile=sysadmin` makes any debugging container privileged.
 */
export function kubectlDebugReach(
  given: readonly Given[],
  operands: readonly ShellWord[],
): ContainerReach {
  const onNode = operands.some((word) => word.dynamic || /^nodes?\//i.test(word.text));
  const sysadmin = given.some(
    ({ option, value, dynamic }) =>
      option === 'profile' && (dynamic === true || value?.toLowerCase() === 'sysadmin'),
  );
  return { writes: [], hostAccess: onNode || sysadmin };
}

/** `HOST[:CONTAINER[:PERMISSIONS]]`, the host path cleaned as the CLI cleans it. */
function containedDevice(value: string): boolean {
  const colon = value.indexOf(':');
  const host = colon === -1 ? value : value.slice(0, colon);
  return CONTAINED_DEVICE.test(normalizePath(host));
}

function contained(capability: string): boolean {
  return CONTAINED_CAPABILITIES.has(capability.trim().toUpperCase().replace(/^CAP_/, ''));
}

/**
 * `-v SOURCE:TARGET[:OPTIONS]`. A source that is a path (it starts with `/`, `.` or `~`) is a
 * bind mount; any other is a named volume, and one part alone an anonymous one. Writes the
 * mounted path to `writes` unless read-only, and answers whether the mount gives host access (a
 * socket, such as Docker's).
 */
function volume(value: string, dynamic: boolean, writes: WrittenPath[]): boolean {
  const parts = value.split(':');
  if (parts.length < 2) return false;
  const source = hostPath(parts[0]!, dynamic);
  if (source === undefined) return false;
  const options = (parts[2] ?? '').split(',');
  // podman's `O` is an overlay: writes stay in the container.
  const readOnly = options.includes('ro') || options.includes('O');
  return bind(source, readOnly, writes);
}

/**
 * `--mount type=bind,source=…,target=…[,readonly]`, and a local volume that binds a host path
 * (`type=volume,volume-opt=device=/x,volume-opt=o=bind`). Docker reads the value as one CSV
 * record (its first line); keys and the type are compared ignoring case, the last of a key
 * counts, and `readonly` takes Go's boolean spellings. A value that is not CSV docker refuses;
 * here it counts as a mount of a path only known at run time.
 */
function mount(value: string, dynamic: boolean, writes: WrittenPath[]): boolean {
  const fields = csvRecord(value);
  if (fields === undefined) return bind({ text: value, dynamic: true, tree: true }, false, writes);
  let type = 'volume';
  let source: string | undefined;
  let device: string | undefined;
  let readOnly = false;
  let recursiveWritable = false;
  for (const field of fields) {
    const equals = field.indexOf('=');
    const key = (equals === -1 ? field : field.slice(0, equals)).trim().toLowerCase();
    const setting = equals === -1 ? undefined : field.slice(equals + 1);
    if (key === 'type' && setting !== undefined) type = setting.toLowerCase();
    else if (key === 'source' || key === 'src') source = setting;
    else if (key === 'readonly' || key === 'ro')
      readOnly = setting === undefined || GO_TRUE.test(setting);
    else if (key === 'bind-recursive') recursiveWritable = setting === 'writable';
    else if (key === 'volume-opt' && setting?.startsWith('device=')) {
      device = setting.slice('device='.length);
    }
  }
  const path = type === 'bind' ? source : type === 'volume' ? device : undefined;
  if (path === undefined) return false;
  const host = hostPath(path, dynamic) ?? { text: path, dynamic, tree: true };
  // Read-only with `bind-recursive=writable` leaves the mounts below the source writable.
  return bind(host, readOnly && !recursiveWritable, writes);
}

const GO_TRUE = /^(1|t|T|TRUE|true|True)$/;

/**
 * The fields of the first CSV record in `text`, as Go's `encoding/csv` reads them: a field may
 * be quoted whole (`"source=/a,b"`, `""` for a quote inside); a quote elsewhere is an error
 * (`undefined`).
 */
function csvRecord(value: string): string[] | undefined {
  // Go's reader turns each \r\n into \n first.
  const text = value.replaceAll('\r\n', '\n');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) return undefined;
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i++;
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n') {
        return undefined;
      }
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      field = text.slice(i, end);
      if (field.includes('"')) return undefined;
      i = end;
    }
    fields.push(field);
    if (text[i] !== ',') return fields;
    i++;
  }
}

/**
 * A mount source as a path the `writes_to` globs read: `$PWD` (or `$(pwd)`) and `$HOME` are
 * the working directory and `~`; any other expansion leaves it only known at run time.
 * `undefined` when it names a volume, not a path.
 */
function hostPath(source: string, dynamic: boolean): WrittenPath | undefined {
  let text = source;
  if (dynamic) {
    const known = /^(\$PWD|\$\{PWD\}|\$\(pwd\)|`pwd`)(?=\/|$)/.exec(text);
    const home = /^(\$HOME|\$\{HOME\})(?=\/|$)/.exec(text);
    if (known !== null) text = `.${text.slice(known[0].length)}`;
    else if (home !== null) text = `~${text.slice(home[0].length)}`;
    if (/[$`]/.test(text)) return { text: source, dynamic: true, tree: true };
  }
  if (!/^[/.~]/.test(text)) return undefined;
  return { text, dynamic: false, tree: true };
}

/**
 * Adds a writable mount to `writes`, and answers whether it is host access: the host's root or a
 * socket such as Docker's (or the directory holding it), even read-only; the kernel's
 * interfaces writable (`/proc/sys/kernel/core_pattern` runs a program on the host, so does a
 * cgroup's `release_agent`, and `/dev` holds the disks); a path only known at run time.
 */
function bind(path: WrittenPath, readOnly: boolean, writes: WrittenPath[]): boolean {
  if (!readOnly) writes.push(path);
  if (path.dynamic) return true;
  const text = normalizePath(path.text);
  if (text === '/' || text.endsWith('.sock') || /^\/(var\/)?run(\/|$)/.test(text)) return true;
  return !readOnly && /^\/(proc|sys|dev)(\/|$)/.test(text);
}
