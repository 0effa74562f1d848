"""Copies the running Python (the build host's, with moto installed) into an image tree, pruned to
what moto's DynamoDB server needs. Run by recipe.sh with that Python: collect.py <dest> <server.py>

  <dest>/bin/python3.11, <dest>/lib/libpython3.11.so.1.0
  <dest>/lib/python3.11/...                 the standard library without tests, IDLE, tkinter, ...
  <dest>/lib/python3.11/site-packages/...   the distributions moto (+ Flask, flask-cors, the
                                            PartiQL parser) requires, copied file by file from
                                            their RECORD; moto keeps only its DynamoDB backend and
                                            the backends that one imports, botocore/boto3 only
                                            those services' models.
Nothing is downloaded. Prints what it copied (sizes per distribution) for the build log.
"""

import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import sysconfig

MOTO_VERSION = "5.2.1"  # the image tag names it (image.json); bump both together
# moto[server] without the extras only other backends need, plus moto[dynamodb]'s PartiQL parser.
ROOTS = ["moto", "flask", "flask-cors", "py-partiql-parser"]
# moto packages always kept; the ones the self-test imports (iam, sts, s3, ...) are added to these.
MOTO_KEEP = {"core", "utilities", "moto_api", "moto_server", "dynamodb", "dynamodb_v20111205", "dynamodbstreams"}
STDLIB_SKIP = {
    "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
    "site-packages", "turtle.py", "__phello__",
}


def fail(message):
    sys.exit(f"collect.py: ERROR: {message}")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(dist):
    """Names of a distribution's unconditional requirements whose markers hold here (no extras)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        from pip._vendor.packaging.requirements import Requirement
    names = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def closure(roots):
    seen = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if norm(name) in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            fail(f"{name} is not installed in {sys.prefix} (moto's server needs it)")
        seen[norm(name)] = dist
        stack.extend(requirement_names(dist))
    return seen


def self_test_files(server):
    """Every file imported while the server script runs its DynamoDB self-test."""
    out = subprocess.run(
        [sys.executable, server, "--self-test", "--list-files"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def main():
    dest, server = sys.argv[1], sys.argv[2]
    import moto

    if moto.__version__ != MOTO_VERSION:
        fail(
            f"the build host has moto {moto.__version__}, the image is tagged for {MOTO_VERSION}: "
            "update MOTO_VERSION here and the tag in image.json together"
        )
    purelib = os.path.realpath(sysconfig.get_paths()["purelib"])
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    prefix = os.path.realpath(sys.prefix)

    dists = closure(ROOTS)
    # Map every installed file to its distribution, to add what the self-test imports beyond the
    # declared requirements (moto imports some optional modules, e.g. yaml, when present).
    owner = {}
    for dist in md.distributions():
        for f in dist.files or []:
            owner[os.path.realpath(dist.locate_file(f))] = dist
    moto_keep = set(MOTO_KEEP)
    for path in self_test_files(server):
        if not path.startswith(purelib + os.sep):
            continue
        rel = os.path.relpath(path, purelib).split(os.sep)
        if rel[0] == "moto" and len(rel) > 2:
            moto_keep.add(rel[1])
        dist = owner.get(path)
        if dist is not None and norm(dist.metadata["Name"]) not in dists:
            if norm(dist.metadata["Name"]) == "setuptools":
                continue  # only its distutils shim (a .pth) was imported
            dists[norm(dist.metadata["Name"])] = dist
    # Service models in botocore/boto3 for the kept moto backends only.
    models_keep = moto_keep | {"dynamodbstreams", "cloudwatch", "events", "s3", "iam", "sts"}

    def keep_site_file(rel):
        parts = rel.split("/")
        if parts[0] in ("..",) or rel.endswith((".opt-1.pyc", ".opt-2.pyc")):
            return False
        if "tests" in parts[:-1] or "test" in parts[:-1]:
            return False
        if parts[0] == "moto" and len(parts) > 2 and parts[1] not in moto_keep and parts[1] != "__pycache__":
            return False
        if parts[0] in ("botocore", "boto3") and len(parts) > 3 and parts[1] == "data":
            return parts[2] in models_keep
        return True

    site_dest = os.path.join(dest, os.path.relpath(purelib, prefix))
    sizes = {}
    for name, dist in sorted(dists.items()):
        total = 0
        for f in dist.files or []:
            rel = str(f).replace(os.sep, "/")
            src = os.path.realpath(dist.locate_file(f))
            if not src.startswith(purelib + os.sep) or not keep_site_file(rel) or not os.path.isfile(src):
                continue
            target = os.path.join(site_dest, os.path.relpath(src, purelib))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(src, target)
            total += os.path.getsize(src)
        sizes[f"{dist.metadata['Name']} {dist.version}"] = total

    # The standard library, without what a server never imports.
    std_dest = os.path.join(dest, os.path.relpath(stdlib, prefix))

    def ignore(directory, names):
        skipped = [n for n in names if n.endswith((".opt-1.pyc", ".opt-2.pyc"))]
        if os.path.realpath(directory) == stdlib:
            skipped += [n for n in names if n in STDLIB_SKIP or n.startswith("config-")]
        if os.path.basename(directory) == "lib-dynload":
            skipped += [n for n in names if n.startswith(("_tkinter", "_test", "xxlimited", "_xx"))]
        return skipped

    shutil.copytree(stdlib, std_dest, ignore=ignore, symlinks=True, dirs_exist_ok=True)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
    shutil.copy2(os.path.realpath(sys.executable), os.path.join(dest, "bin", f"python{version}"))
    libpython = sysconfig.get_config_var("INSTSONAME")
    libdir = sysconfig.get_config_var("LIBDIR")
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        shutil.copy2(os.path.join(libdir, libpython), os.path.join(dest, "lib", libpython))

    for label, size in sizes.items():
        print(f"collect.py: {label}: {size / 1e6:.1f} MB")
    print(f"collect.py: moto backends kept: {' '.join(sorted(moto_keep))}")


if __name__ == "__main__":
    main()
