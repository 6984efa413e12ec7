"""The rule catalogue: every check systemkit makes, in one table.

Each :class:`Rule` has its code, severity, a one-line summary, the rationale, and a failing and
a passing example. The docs page (``docs/checks.md``) is generated from this table
(:func:`systemkit.check.docs.render_catalogue`) and the tests run every example, so the table,
the docs and the behaviour cannot drift apart.

Examples are complete LinuxKit YAML files (``lang="yaml"``) or ``system.py`` files
(``lang="python"``). Every rule applies to YAML too: a rule whose main example is a system.py
also has the mistake written in YAML (``yaml``; ``yaml_code`` when the YAML reader reports it
under its own code), or says why it cannot be written there (``python_only``); the tests run
those as well.
"""

from __future__ import annotations

import textwrap

import attrs

from systemkit import codes
from systemkit.diagnostics import Severity


@attrs.frozen
class Example:
    """A whole input file showing a rule; ``formats`` are the output formats requested."""

    text: str
    lang: str = "yaml"
    formats: tuple[str, ...] = ()
    lock: str = ""
    """A ``systemkit.lock`` next to the file (rules that need to know the images)."""


@attrs.frozen
class Rule:
    """One check: code, severity, summary, why, and a failing and a passing example.

    The severity and the summary are the code's default severity and meaning in the registry
    (:mod:`systemkit.codes`); the catalogue adds the rationale, the group and the examples."""

    code: str
    severity: Severity
    summary: str
    rationale: str
    bad: Example
    good: Example
    group: str
    yaml: Example | None = None
    """The mistake in LinuxKit YAML, when ``bad`` is a system.py."""
    yaml_code: str | None = None
    """The code the YAML example reports when YAML has its own for the mistake (the reader's)."""
    python_only: str | None = None
    """Why the mistake cannot be written in YAML (then there is no YAML example)."""

    @property
    def yaml_example(self) -> Example | None:
        """The failing example in LinuxKit YAML: ``bad`` itself, or ``yaml``."""
        return self.bad if self.bad.lang == "yaml" else self.yaml


def _y(text: str, formats: tuple[str, ...] = ()) -> Example:
    return Example(text.strip("\n") + "\n", "yaml", formats)


def _py(body: str) -> Example:
    head = "from systemkit import *  # noqa: F403\n\n"
    return Example(head + body.strip("\n") + "\n", "python")


def _svc(lines: str, image: str = "alpine:3.19") -> str:
    """A YAML system with one service `app` whose further keys are ``lines``."""
    return f"services:\n  - name: app\n    image: {image}\n" + textwrap.indent(
        lines.strip("\n") + "\n", "    "
    )


def _r(
    code: str,
    group: str,
    rationale: str,
    bad: Example,
    good: Example,
    *,
    yaml: Example | None = None,
    yaml_code: str | None = None,
    python_only: str | None = None,
) -> Rule:
    entry = codes.get(code)
    return Rule(
        code,
        entry.severity,
        entry.meaning,
        rationale,
        bad,
        good,
        group,
        yaml,
        yaml_code,
        python_only,
    )


def _locked(example: Example, ref: str, entrypoint: list[str] | None) -> Example:
    """``example`` with a lock that knows ``ref``: no label, this Entrypoint, no Cmd."""
    from systemkit.images.lock import Lock, LockedImage

    digest = "sha256:" + "0" * 64
    entry = LockedImage(
        ref=ref,
        digest=digest,
        media_type="application/vnd.oci.image.manifest.v1+json",
        platforms={"linux/amd64": digest, "linux/arm64": digest},
        platform="linux/amd64",
        label=None,
        config={"Entrypoint": entrypoint},
    )
    return attrs.evolve(example, lock=Lock({ref: entry}).to_bytes().decode())


_NOCMD = "example.com/nocmd:1"
_VOL = "volumes:\n  - name: data\n"
_GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"

RULES: tuple[Rule, ...] = (
    # --- value rules (systemkit.validate), also raised by the model constructors ------------
    _r(
        "SK101",
        "capabilities",
        "LinuxKit accepts any string and the container then fails to start (or runs without "
        "the capability); names are exact and upper case.",
        _y(_svc("capabilities: [CAP_NET_ADMN]")),
        _y(_svc("capabilities: [CAP_NET_ADMIN]")),
    ),
    _r(
        "SK102",
        "capabilities",
        "`all` and `none` expand to every/no capability only as the single element; "
        "`[all, CAP_X]` is an error in LinuxKit.",
        _y(_svc("capabilities: [all, CAP_SYS_ADMIN]")),
        _y(_svc("capabilities: [all]")),
    ),
    _r(
        "SK103",
        "files",
        "Modes are octal permission bits; anything else cannot be written to the image.",
        _py('system = System(files=[File("/etc/motd", contents="hi\\n", mode=0o10000)])'),
        _py('system = System(files=[File("/etc/motd", contents="hi\\n", mode=0o644)])'),
        yaml=_y('files:\n  - path: etc/motd\n    contents: hi\n    mode: "10000"\n'),
    ),
    _r(
        "SK104",
        "paths",
        "A relative working directory, masked or read-only path has no meaning inside the "
        "container; runc refuses it at boot.",
        _y(_svc("cwd: srv/app")),
        _y(_svc("cwd: /srv/app")),
    ),
    _r(
        "SK105",
        "images",
        "A reference that cannot be parsed cannot be pulled.",
        _py('system = System(services=[Service("app", "Alpine:3.19")])'),
        _py('system = System(services=[Service("app", "alpine:3.19")])'),
        yaml=_y("services:\n  - name: app\n    image: Alpine:3.19\n"),
    ),
    _r(
        "SK106",
        "mounts",
        "Binds are `source:destination[:options]`; LinuxKit splits on `:` and fails late.",
        _y(_svc('binds: ["/var/log"]')),
        _y(_svc('binds: ["/var/log:/var/log:ro"]')),
    ),
    _r(
        "SK107",
        "env",
        "An entry without `=` is passed to the process as is and is not a variable.",
        _y(_svc("env: [PATH=/bin, DEBUG]")),
        _y(_svc("env: [PATH=/bin, DEBUG=1]")),
    ),
    _r(
        "SK108",
        "process",
        "rlimits are `name,soft,hard` with a known name; LinuxKit's error omits the name.",
        _y(_svc('rlimits: ["nofiles,1024,4096"]')),
        _y(_svc('rlimits: ["nofile,1024,4096"]')),
    ),
    _r(
        "SK109",
        "process",
        "Namespaces are `host`, `new` (`none` for net) or the path of a namespace to join; any "
        "other word is taken as a path and fails at boot.",
        _y(_svc("net: hots")),
        _y(_svc("net: host")),
    ),
    _r(
        "SK110",
        "names",
        "A container name becomes a directory (`containers/services/NAME`): `/`, `..` or white "
        "space escape or break the layout.",
        _y("services:\n  - name: ../etc\n    image: alpine:3.19\n"),
        _y("services:\n  - name: etc-writer\n    image: alpine:3.19\n"),
    ),
    _r(
        "SK111",
        "mounts",
        "tmpfs entries are `destination[:options]` with an absolute destination.",
        _y(_svc('tmpfs: ["tmp:size=64m"]')),
        _y(_svc('tmpfs: ["/tmp:size=64m"]')),
    ),
    _r(
        "SK112",
        "process",
        "Device nodes are `c`, `b`, `u` or `p`.",
        _y(_svc('devices:\n  - {path: /dev/fuse, type: x, major: 10, minor: 229, mode: "0666"}')),
        _y(_svc('devices:\n  - {path: /dev/fuse, type: c, major: 10, minor: 229, mode: "0666"}')),
    ),
    _r(
        "SK113",
        "process",
        "A sysctl key is dotted (or slashed) words; anything else is refused by runc at boot.",
        _y(_svc("net: new\nsysctl:\n  'net ipv4 ip_forward': '1'")),
        _y(_svc("net: new\nsysctl:\n  net.ipv4.ip_forward: '1'")),
    ),
    _r(
        "SK114",
        "mounts",
        "runc only knows the mount propagation words.",
        _y(_svc("rootfsPropagation: share")),
        _y(_svc("rootfsPropagation: shared")),
    ),
    _r(
        "SK115",
        "process",
        "The kernel refuses an OOM score adjustment outside -1000..1000.",
        _y(_svc("oomScoreAdj: -2000")),
        _y(_svc("oomScoreAdj: -1000")),
    ),
    _r(
        "SK116",
        "volumes",
        "Volume names become directory names and bind sources; LinuxKit allows only `[a-z0-9_-]`.",
        _py('system = System(volumes=[Volume("Data")])'),
        _py('system = System(volumes=[Volume("data")])'),
        yaml=_y("volumes:\n  - name: Data\n"),
    ),
    _r(
        "SK117",
        "files",
        "LinuxKit refuses two content kinds (`specified Contents and Source`) and none "
        "(`contents of file not specified`).",
        _y("files:\n  - path: etc/motd\n    contents: hi\n    symlink: /etc/issue\n"),
        _y("files:\n  - path: etc/motd\n    contents: hi\n"),
    ),
    _r(
        "SK118",
        "files",
        "`metadata` writes the system's own config as `yaml` or `json`, nothing else.",
        _y("files:\n  - path: etc/linuxkit.toml\n    metadata: toml\n    mode: '0644'\n"),
        _y("files:\n  - path: etc/linuxkit.yml\n    metadata: yaml\n    mode: '0644'\n"),
    ),
    _r(
        "SK119",
        "references",
        "User and group ids are non-negative 32-bit numbers: LinuxKit wraps a larger one "
        "around, so 4294967296 silently becomes 0, root.",
        _y(_svc("uid: 4294967296")),
        _y(_svc("uid: 1000")),
    ),
    _r(
        "SK120",
        "volumes",
        "A volume is laid out as a `filesystem` (default) or an `oci` image layout.",
        _y("volumes:\n  - name: data\n    format: tar\n"),
        _y("volumes:\n  - name: data\n    format: oci\n"),
    ),
    _r(
        "SK121",
        "types",
        "A value of the wrong type (a string where a list is expected) is reported by the "
        "model constructor; `systemkit check` also runs mypy, which finds it before running.",
        _py('system = System(services=[Service("app", "alpine:3.19", command="/bin/app")])'),
        _py('system = System(services=[Service("app", "alpine:3.19", command=["/bin/app"])])'),
        yaml=_y(_svc("command: /bin/app")),
        yaml_code="SK003",
    ),
    _r(
        "SK122",
        "files",
        "A non-optional `source` that cannot be read fails the build; checking finds it first.",
        _py('system = System(files=[File("/etc/motd", source="no-such-motd.txt")])'),
        _py('system = System(files=[File("/etc/motd", source="no-such-motd.txt", optional=True)])'),
        yaml=_y("files:\n  - path: etc/motd\n    source: no-such-motd.txt\n"),
    ),
    _r(
        "SK123",
        "types",
        "A misspelt keyword, a positional argument too many or a missing one: the constructor "
        "call cannot mean what it says. `systemkit check` reports it (with the closest real "
        "name) and goes on loading, so every other mistake of the file is reported in the same "
        "run; used directly, the constructor raises it with the call's other findings.",
        _py('system = System(services=[Service("app", "alpine:3.19", comand=["/bin/app"])])'),
        _py('system = System(services=[Service("app", "alpine:3.19", command=["/bin/app"])])'),
        yaml=_y(_svc("comand: [/bin/app]")),
        yaml_code="SK002",
    ),
    _r(
        "SK140",
        "files",
        "A template is rendered strictly when the file is made: a variable it uses but was not "
        "given is an error, never an empty line in the image; a syntax error names its line.",
        _py('system = System(files=[File.template("/etc/motd", "Hi {{ host }}\\n")])'),
        _py('system = System(files=[File.template("/etc/motd", "Hi {{ host }}\\n", host="a")])'),
        python_only="`File.template` renders in Python; LinuxKit YAML has only the rendered "
        "`contents`",
    ),
    # --- names --------------------------------------------------------------------------------
    _r(
        "SK201",
        "names",
        "Services live in `containers/services/NAME` and run under containerd by name: two "
        "services with one name overwrite each other. LinuxKit refuses it too.",
        _py(
            'system = System(services=[Service("app", "alpine:3.19"), '
            'Service("app", "nginx:1.27")])'
        ),
        _py(
            'system = System(services=[Service("app", "alpine:3.19"), '
            'Service("web", "nginx:1.27")])'
        ),
        yaml=_y(
            "services:\n  - name: app\n    image: alpine:3.19\n"
            "  - name: app\n    image: nginx:1.27\n"
        ),
    ),
    _r(
        "SK202",
        "names",
        "Two volumes with one name share a directory; LinuxKit refuses it.",
        _py('system = System(volumes=[Volume("data"), Volume("data")])'),
        _py('system = System(volumes=[Volume("data"), Volume("logs")])'),
        yaml=_y("volumes:\n  - name: data\n  - name: data\n"),
    ),
    _r(
        "SK203",
        "names",
        "LinuxKit checks only services. Onboot and onshutdown directories are numbered "
        "(`000-NAME`), so a repeated name does not collide on disk there, but ids are allocated "
        "by name: a `uid: NAME` is ambiguous, and messages naming the container cannot tell the "
        "two apart. Unique names everywhere keep references unambiguous.",
        _y(
            "onboot:\n  - name: setup\n    image: alpine:3.19\n"
            "services:\n  - name: setup\n    image: alpine:3.19\n"
        ),
        _y(
            "onboot:\n  - name: setup\n    image: alpine:3.19\n"
            "services:\n  - name: app\n    image: alpine:3.19\n"
        ),
    ),
    # --- label defaults -----------------------------------------------------------------------
    _r(
        "SK210",
        "capabilities",
        "`capabilities` replaces the capabilities of the image's `org.mobyproject.config` label "
        "(hidden defaults, LinuxKit #1272); `capabilities.add` appends to them. Silent when the "
        "image is in the local store and its label sets none.",
        _y(_svc("capabilities: [CAP_NET_ADMIN]", _GETTY)),
        _y(_svc("capabilities.add: [CAP_NET_ADMIN]", _GETTY)),
    ),
    _r(
        "SK211",
        "mounts",
        "`binds` replaces the binds of the image's label (users lost default binds, moby/tool"
        "#160); `binds.add` appends. Silent when the image is stored and its label has none.",
        _y(_svc('binds: ["/var/log:/var/log"]', _GETTY)),
        _y(_svc('binds.add: ["/var/log:/var/log"]', _GETTY)),
    ),
    _r(
        "SK212",
        "capabilities",
        "When `capabilities` is set, LinuxKit ignores `capabilities.add` entirely.",
        _y(_svc("capabilities: [CAP_SYS_ADMIN]\ncapabilities.add: [CAP_NET_ADMIN]")),
        _y(_svc("capabilities: [CAP_SYS_ADMIN, CAP_NET_ADMIN]")),
    ),
    _r(
        "SK213",
        "mounts",
        "When `binds` is set, LinuxKit ignores `binds.add` entirely.",
        _y(_svc('binds: ["/var/log:/var/log"]\nbinds.add: ["/etc:/etc:ro"]')),
        _y(_svc('binds: ["/var/log:/var/log", "/etc:/etc:ro"]')),
    ),
    _r(
        "SK214",
        "process",
        "A container without `command` runs its label's command, else the image's Entrypoint "
        "and Cmd; when the image has none of them runc has nothing to run and the system "
        "fails at boot. Known only with a lock (`systemkit lock`) or a stored image.",
        _locked(_y(_svc("env: [A=1]", _NOCMD)), _NOCMD, None),
        _locked(_y(_svc("command: [/bin/app]", _NOCMD)), _NOCMD, None),
    ),
    # --- mounts -------------------------------------------------------------------------------
    _r(
        "SK220",
        "mounts",
        "An option word the kernel does not know makes the mount fail at boot (`key=value` "
        "options are filesystem data and pass).",
        _y(_svc('binds: ["/var/log:/var/log:readonly"]')),
        _y(_svc('binds: ["/var/log:/var/log:ro"]')),
    ),
    _r(
        "SK221",
        "mounts",
        "A filesystem type the kernel does not know makes the mount fail at boot.",
        _y(_svc("mounts:\n  - {type: tmpfss, source: tmpfs, destination: /run/app}")),
        _y(_svc("mounts:\n  - {type: tmpfs, source: tmpfs, destination: /run/app}")),
    ),
    _r(
        "SK222",
        "mounts",
        "Mounts are keyed by destination (tmpfs, then binds, then mounts): a second one at the "
        "same path silently replaces the first.",
        _y(_svc('tmpfs: ["/run/app"]\nbinds.add: ["/var/app:/run/app"]')),
        _y(_svc('tmpfs: ["/run/app"]\nbinds.add: ["/var/app:/srv/app"]')),
    ),
    _r(
        "SK223",
        "mounts",
        "LinuxKit rewrites a volume name into the volume's directory only in `binds` and "
        "`binds.add`; a `mounts` entry of type bind keeps the bare name as its source (a "
        "relative host path), so the container does not get the volume.",
        _y(_VOL + _svc("mounts:\n  - {type: bind, source: data, destination: /data}")),
        _y(_VOL + _svc('binds.add: ["data:/data"]')),
    ),
    _r(
        "SK224",
        "mounts",
        "LinuxKit's volume docs require `:ro` on every bind of a read-only volume, but the "
        "build does not enforce it: without it the bind claims to be writable while the volume "
        "is not meant to be written.",
        _y("volumes:\n  - name: data\n    readonly: true\n" + _svc('binds.add: ["data:/data"]')),
        _y("volumes:\n  - name: data\n    readonly: true\n" + _svc('binds.add: ["data:/data:ro"]')),
    ),
    _r(
        "SK225",
        "mounts",
        "OCI mount destinations are absolute. runc still resolves a relative one against the "
        "container's root (with a deprecation warning), and LinuxKit passes it through; "
        "`runtime.mounts` destinations are relative to the bundle on purpose and are not "
        "flagged.",
        _y(_svc("mounts:\n  - {type: tmpfs, source: tmpfs, destination: run/app}")),
        _y(_svc("mounts:\n  - {type: tmpfs, source: tmpfs, destination: /run/app}")),
    ),
    # --- references ---------------------------------------------------------------------------
    _r(
        "SK230",
        "references",
        "A string uid/gid names a container whose allocated id is used; an unknown name fails "
        "the build (`cannot find id`) only after images are fetched.",
        _y(_svc("uid: nobody")),
        _y("onboot:\n  - name: nobody\n    image: alpine:3.19\n" + _svc("uid: nobody")),
    ),
    _r(
        "SK231",
        "volumes",
        "A relative bind source is a volume name; one that is not declared is passed to runc "
        "as a relative path and fails at boot.",
        _y(_svc('binds.add: ["data:/data"]')),
        _y(_VOL + _svc('binds.add: ["data:/data"]')),
    ),
    _r(
        "SK232",
        "volumes",
        "A volume no container binds is built for nothing (often a typo in a bind).",
        _y(_VOL + _svc("command: [/bin/true]")),
        _y(_VOL + _svc('binds.add: ["data:/data"]')),
    ),
    # --- files --------------------------------------------------------------------------------
    _r(
        "SK240",
        "files",
        "Two entries at one path: the later silently overwrites the earlier.",
        _y("files:\n  - path: etc/motd\n    contents: a\n  - path: /etc/motd\n    contents: b\n"),
        _y("files:\n  - path: etc/motd\n    contents: a\n  - path: etc/issue\n    contents: b\n"),
    ),
    _r(
        "SK241",
        "files",
        "A path that is a file in one entry and a directory in another (or the parent of "
        "another entry) cannot be both.",
        _y(
            "files:\n  - path: etc/app\n    contents: x\n"
            "  - path: etc/app/config\n    contents: y\n"
        ),
        _y(
            "files:\n  - path: etc/app\n    directory: true\n"
            "  - path: etc/app/config\n    contents: y\n"
        ),
    ),
    _r(
        "SK242",
        "files",
        "init mounts tmpfs on /var, /run and /tmp at boot, hiding whatever `files` put there "
        "(LinuxKit #3686).",
        _y("files:\n  - path: var/log/app.conf\n    contents: x\n    mode: '0644'\n"),
        _y("files:\n  - path: etc/app.conf\n    contents: x\n    mode: '0644'\n"),
    ),
    _r(
        "SK243",
        "files",
        "Missing parent directories are created with the file's mode plus `x`, and they come "
        "last in the image: a default 0600 file makes `/etc` 0700 for everyone but root.",
        _y("files:\n  - path: etc/app.conf\n    contents: x\n"),
        _y("files:\n  - path: etc/app.conf\n    contents: x\n    mode: '0644'\n"),
    ),
    # --- env, command, process ----------------------------------------------------------------
    _r(
        "SK250",
        "env",
        "The same variable twice: which one wins depends on the runtime.",
        _y(_svc("env: [PATH=/bin, MODE=a, MODE=b]")),
        _y(_svc("env: [PATH=/bin, MODE=b]")),
    ),
    _r(
        "SK251",
        "env",
        "`env` replaces the image's whole environment, PATH included; the process then finds "
        "no programs by name.",
        _y(_svc("env: [DEBUG=1]")),
        _y(_svc("env: [PATH=/usr/sbin:/usr/bin:/sbin:/bin, DEBUG=1]")),
    ),
    _r(
        "SK260",
        "process",
        "`command` is a list of argv words: `['/bin/app --flag']` runs a program whose name "
        "contains a space. LinuxKit accepts it and the container fails at boot (#3110).",
        _y(_svc("command: ['/bin/app --verbose']")),
        _y(_svc("command: [/bin/app, --verbose]")),
    ),
    _r(
        "SK262",
        "process",
        "The same rlimit twice: the later silently wins.",
        _y(_svc('rlimits: ["nofile,1024,4096", "RLIMIT_NOFILE,2048,4096"]')),
        _y(_svc('rlimits: ["nofile,2048,4096"]')),
    ),
    _r(
        "SK263",
        "process",
        "setrlimit refuses a soft limit above the hard limit; the container fails to start.",
        _y(_svc('rlimits: ["nofile,8192,4096"]')),
        _y(_svc('rlimits: ["nofile,4096,8192"]')),
    ),
    _r(
        "SK264",
        "process",
        "A `c`/`b` device needs its major and minor numbers, and LinuxKit needs a mode "
        "(an empty mode is a parse error).",
        _y(_svc("devices:\n  - {path: /dev/fuse, type: c, major: 10, minor: 229}")),
        _y(_svc('devices:\n  - {path: /dev/fuse, type: c, major: 10, minor: 229, mode: "0666"}')),
    ),
    _r(
        "SK265",
        "process",
        "runc lets a container set only the sysctls of a namespace of its own (the kernel's "
        "namespaced sysctls: `net.*` in a network namespace; `kernel.msg*`, `kernel.sem`, "
        "`kernel.shm*`, `fs.mqueue.*` in an IPC namespace; `kernel.domainname` in a UTS "
        "namespace) and refuses the rest when the container starts. LinuxKit's default for "
        "`net`, `ipc` and `uts` is the host's namespace.",
        _y(_svc("sysctl:\n  net.ipv4.ip_forward: '1'\n  vm.swappiness: '10'")),
        _y(_svc("net: new\nsysctl:\n  net.ipv4.ip_forward: '1'")),
    ),
    _r(
        "SK266",
        "runtime",
        "init knows how to create `veth` (which needs a `peer`) and `wireguard` interfaces; "
        "an interface without `add` is moved in by name, so it needs a name.",
        _y(_svc("net: new\nruntime:\n  interfaces:\n    - {name: eth1, add: veth}")),
        _y(_svc("net: new\nruntime:\n  interfaces:\n    - {name: eth1, add: veth, peer: veth1}")),
    ),
    _r(
        "SK267",
        "runtime",
        "`bindNS` bind-mounts a namespace to a path in the root namespace: it must be absolute.",
        _y(_svc("net: new\nruntime:\n  bindNS:\n    net: run/netns/app")),
        _y(_svc("net: new\nruntime:\n  bindNS:\n    net: /run/netns/app")),
    ),
    _r(
        "SK268",
        "runtime",
        "`runtime.namespace` (the containerd namespace) applies to services only; init "
        "ignores it for onboot and onshutdown containers.",
        _y("onboot:\n  - name: setup\n    image: alpine:3.19\n    runtime:\n      namespace: x\n"),
        _y("services:\n  - name: app\n    image: alpine:3.19\n    runtime:\n      namespace: x\n"),
    ),
    # --- kernel, images, volumes --------------------------------------------------------------
    _r(
        "SK270",
        "kernel",
        "Bootable formats (kernel+initrd, iso, raw, qcow2 ...) need a kernel; `tar` and "
        "`docker` do not.",
        _y("init: [linuxkit/init:v1.0.0]\n", ("kernel+initrd",)),
        _y(
            "kernel:\n  image: linuxkit/kernel:6.6.13\n  cmdline: console=ttyS0\n"
            "init: [linuxkit/init:v1.0.0]\n",
            ("kernel+initrd",),
        ),
    ),
    _r(
        "SK271",
        "kernel",
        "Without `console=` the kernel's and init's messages go nowhere visible.",
        _y("kernel:\n  image: linuxkit/kernel:6.6.13\n  cmdline: quiet\n"),
        _y("kernel:\n  image: linuxkit/kernel:6.6.13\n  cmdline: console=ttyS0 quiet\n"),
    ),
    _r(
        "SK280",
        "images",
        "A tag can move; a digest (or LinuxKit's content-hash tags) cannot. A lock file will "
        "pin tags later.",
        _y("init: [linuxkit/init:v1.0.0]\n"),
        _y("init: [linuxkit/init:8eea386739975a43af558eec757a7dcb3a3d2e7b]\n"),
    ),
    _r(
        "SK290",
        "volumes",
        "`platforms` only applies to `format: oci` volumes; elsewhere it is ignored.",
        _y("volumes:\n  - name: data\n    image: alpine:3.19\n    platforms: [linux/arm64]\n"),
        _y(
            "volumes:\n  - name: data\n    image: alpine:3.19\n    format: oci\n"
            "    platforms: [linux/arm64]\n"
        ),
    ),
    _r(
        "SK295",
        "types",
        "Every model object checks its fields' types when it is made (SK121), so a wrong type "
        "reaches lowering only when that check was bypassed (a field set with "
        "`object.__setattr__`, a hand-made spec). Lowering or a rule then fails; the finding "
        "says so instead of a traceback, and the other findings are still reported.",
        _py(
            'svc = Service("a", "alpine:3.19")\n'
            'object.__setattr__(svc, "runtime", "big")  # bypasses the constructor\'s checks\n'
            "system = System(services=[svc])"
        ),
        _py(
            'system = System(services=[Service("a", "alpine:3.19", runtime=Runtime(mkdir=["/x"]))])'
        ),
        python_only="the YAML reader checks every value's type as it reads it (SK003): a "
        "spec of the wrong shape cannot come from YAML",
    ),
    _r(
        "SK296",
        "compat",
        "LinuxKit decodes the OCI structs inside a container entry (resources, id mappings) "
        "with lower-cased field names, so the camelCase keys its schema allows "
        "(`disableOOMKiller`, `hostID`, `weightDevice`, ...) are silently dropped. systemkit "
        "builds exactly what `linuxkit build` builds, so they are dropped by every backend: "
        "the value you set has no effect.",
        _py(
            'system = System(services=[Service("db", "postgres:16", '
            "resources=Resources(memory=Memory(limit=1 << 30, disable_oom_killer=True)))])"
        ),
        _py(
            'system = System(services=[Service("db", "postgres:16", '
            "resources=Resources(memory=Memory(limit=1 << 30)))])"
        ),
        yaml=_y(_svc("resources:\n  memory:\n    limit: 1073741824\n    disableOOMKiller: true")),
    ),
)
"""Every rule, in code order."""

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}

MYPY_CODE = codes.MYPY.code
"""The code under which mypy's findings are reported (mypy's own code ends the message)."""
