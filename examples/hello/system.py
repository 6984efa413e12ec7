"""The hello system: a real Debian kernel, a small runc init, one onboot container, one service.

Its images are made locally from Debian packages by ``make_images.py`` (see README.md):

    python3 examples/hello/make_images.py /tmp/hello-images
    for f in /tmp/hello-images/*.oci.tar; do systemkit cache import "$f"; done
    mkdir -p out/hello
    systemkit build examples/hello/system.py --format kernel+initrd --dir out/hello --name hello
    systemkit run qemu out/hello/hello --timeout 120
"""

from systemkit import File, Init, Kernel, Onboot, Service, System

IMAGES = "systemkit.local/hello"
BUSYBOX = f"{IMAGES}/busybox:1"

system = System(
    kernel=Kernel(f"{IMAGES}/kernel:6.1", cmdline="console=ttyS0 quiet"),
    init=[Init(f"{IMAGES}/init:1")],
    onboot=[
        Onboot(
            "hello",
            BUSYBOX,
            command=("/bin/sh", "-c", "echo 'hello: onboot container says hello'; cat /etc/motd"),
            binds=("/etc/motd:/etc/motd:ro",),
        ),
    ],
    services=[
        Service(
            "greeter",
            BUSYBOX,
            command=(
                "/bin/sh",
                "-c",
                'echo "greeter: service running as pid $$ on $(uname -r)"; sleep 1; '
                "echo 'greeter: goodbye'",
            ),
        ),
    ],
    files=[
        File("etc/motd", contents="motd: built with systemkit\n", mode=0o644),
    ],
)
