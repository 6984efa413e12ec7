"""A web server system, and its tests (``test_web.py``): busybox httpd serving files from
``files``, on the hello example's kernel, init and busybox images (made from Debian packages by
``../hello/make_images.py``).

Two variants come from one function: ``system`` serves on port 80, ``alt`` on port 8080.

    python3 examples/hello/make_images.py /tmp/hello-images
    systemkit cache import /tmp/hello-images/*.oci.tar
    python3 -m pytest examples/web            # builds, boots and drives it under qemu
"""

from __future__ import annotations

from systemkit import File, Kernel, Onshutdown, Service, System

IMAGES = "systemkit.local/hello"
BUSYBOX = f"{IMAGES}/busybox:1"


def web(port: int = 80) -> System:
    """httpd on ``port`` serving /www (``index.html`` and ``health``), in the host network
    namespace; an onshutdown container says goodbye on the console."""
    return System(
        # a server stays up: the hello init would power off 5 s after the services started
        kernel=Kernel(
            f"{IMAGES}/kernel:6.1", cmdline="console=ttyS0 quiet systemkit.linger=forever"
        ),
        init=[f"{IMAGES}/init:1"],
        services=[
            Service(
                "web",
                BUSYBOX,
                command=(
                    "/bin/sh",
                    "-c",
                    f"echo 'web: ready on port {port}'; exec httpd -f -p {port} -h /www",
                ),
                net="host",
                binds_add=("/www:/www:ro",),
                capabilities_add=("CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"),
            ),
        ],
        onshutdown=[
            Onshutdown("goodbye", BUSYBOX, command=("/bin/echo", "web: stopped cleanly")),
        ],
        files=[
            File("www/index.html", contents="<h1>hello from systemkit</h1>\n", mode=0o644),
            File("www/health", contents="ok\n", mode=0o644),
        ],
    )


system = web()
alt = web(port=8080)
