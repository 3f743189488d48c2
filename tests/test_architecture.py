"""The package's layout holds: every import points down, no cycles, no import-time side effects.

The order, bottom-up (docs/architecture.md): backend and random, kernels, autograd,
functional, layers, graph, io, training, engine; data, models, plot, distributed, predict and cli
are leaves that nothing in the core imports (predict uses data and plot; cli uses them all).
Modules within one folder may import one another, but only autograd/ may do so in a cycle.
"""
import ast
import inspect
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import minifer
from minifer.autograd import Function
from minifer.layers import Layer

PACKAGE = pathlib.Path(minifer.__file__).parent
LEVELS = {"backend": 0, "random": 0, "kernels": 1, "autograd": 2, "functional": 3, "layers": 4, "graph": 5,
          "io": 6, "training": 7, "engine": 8, "data": 9, "models": 9, "plot": 9, "distributed": 9, "predict": 10,
          "cli": 11}
LEAVES = {"data", "models", "cli", "plot", "predict", "distributed"}
TOP = {"__init__", "__main__"}  # the package's front door may import anything


def modules():
    """{dotted module name: path} for every module in the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def unit(module):
    """The folder or top-level module a dotted name belongs to ('minifer.kernels.cpu.shifts' -> 'kernels')."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(module, path):
    """(imported minifer module, line, inside a function?) for every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    known = modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "minifer":
                yield target, node.lineno, id(node) in in_function


def test_every_import_points_down_and_none_hides_in_a_function():
    wrong = []
    for module, path in modules().items():
        here = unit(module)
        for target, line, hidden in imports(module, path):
            there = unit(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
            if hidden and here not in LEAVES:
                wrong.append(f"{where} inside a function")
            if here in TOP:
                continue
            if there in TOP:
                wrong.append(f"{where}: the package front door, from inside")
            elif LEVELS[there] > LEVELS[here] or (LEVELS[there] == LEVELS[here] and there != here
                                                 and not {here, there} <= {"backend", "random"}):
                wrong.append(f"{where}: {there} is not below {here}")
            elif here not in LEAVES and there in LEAVES:
                wrong.append(f"{where}: the core imports a leaf")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_outside_autograd():
    graph = {module: {t for t, _, _ in imports(module, path) if t in modules() and t != module}
             for module, path in modules().items()}
    # a package's __init__ imports its own modules; those importing it back is the usual idiom, not a cycle
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    outside = [c for c in cycles if not all(m.startswith("minifer.autograd") for m in c)]
    assert not outside, "\n".join(" -> ".join(c) for c in outside)


def test_function_names_never_collide_with_layer_names():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    functions = {c.__name__ for c in subclasses(Function)}
    assert all(name.endswith("Function") for name in functions), sorted(functions)
    assert not functions & set(Layer.registry)


# modules whose string keys are another format's vocabulary, which may share a layer's name: {path: why}
_ONNX_OPERATORS = ("ONNX operator types (Add, Softmax, Reshape, Flatten, Dropout, BatchNormalization...) key the "
                   "import tables; they name ONNX's operators, which map onto minifer layers through their classes")
FOREIGN_VOCABULARY = {f"minifer/io/onnx_ops_{kind}.py": _ONNX_OPERATORS
                      for kind in ("dense", "elementwise", "image", "shape")}


def layer_class_files():
    """{class name: the file that defines it} for every layer class (the model classes aside)."""
    return {name: pathlib.Path(inspect.getsourcefile(cls)).resolve() for name, cls in Layer.registry.items()
            if cls.__module__.startswith("minifer.") and not issubclass(cls, minifer.Model)}


def string_keys(tree):
    """(string, line) for each string constant used to pick by name: an operand of a comparison (or
    an item of a tuple, list or set compared against), a dict literal's key, a subscript, the key
    of ``.get``/``.pop``/``.setdefault``, or an item of a module-level table (``__all__`` aside)."""
    def strings(node):
        items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
        return [(n.value, n.lineno) for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)]

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                yield from strings(operand)
        elif isinstance(node, ast.Dict):
            yield from (item for key in node.keys if key is not None for item in strings(key))
        elif isinstance(node, ast.Subscript):
            yield from strings(node.slice)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
              and node.func.attr in ("get", "pop", "setdefault")):
            yield from strings(node.args[0])
    for node in tree.body:
        if isinstance(node, ast.Assign) and not any(getattr(t, "id", None) == "__all__" for t in node.targets):
            yield from strings(node.value)


def test_no_layer_is_picked_by_its_class_name_outside_its_own_file():
    """What a layer does at inference, how it folds and how Keras spells it are the layer's own
    methods: a table or a comparison keyed by a class name elsewhere goes stale silently when the
    layer gains an argument (ReLU(max_value) was ignored by predict that way)."""
    owners = layer_class_files()
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = str(path.relative_to(PACKAGE.parent))
        if relative in FOREIGN_VOCABULARY:
            continue
        for text, line in string_keys(ast.parse(path.read_text(), str(path))):
            if text in owners and owners[text] != path.resolve():
                wrong.append(f"{relative}:{line} picks layer {text!r} by name")
    assert not wrong, "\n".join(wrong)


def test_the_class_name_check_finds_what_it_looks_for():
    found = [text for text, _ in string_keys(ast.parse(textwrap.dedent("""
        TABLE = ("Conv2D", "Dense")
        __all__ = ["ReLU"]
        def f(layer, config):
            if type(layer).__name__ == "Softmax" or config["Add"] or config.get("Flatten"):
                return {"Dropout": 1}
            return kind in ("MaxPooling2D",)
    """)))]
    assert sorted(found) == ["Add", "Conv2D", "Dense", "Dropout", "Flatten", "MaxPooling2D", "Softmax"]


def test_no_file_over_300_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long


PROBE = textwrap.dedent("""
    import ctypes, json, sys, threading
    import numpy

    def blas():
        paths = sorted({l.split()[-1] for l in open("/proc/self/maps") if "openblas" in l.split()[-1]})
        for path in paths:
            lib = ctypes.CDLL(path)
            for get, put in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                             ("openblas_get_num_threads", "openblas_set_num_threads")):
                if hasattr(lib, get):
                    return getattr(lib, get), getattr(lib, put)
        return None, None

    get, put = blas()
    if put is not None:
        put(3)  # a count minifer has no reason to pick
    before = get() if get else None
    threads = threading.active_count()
    import minifer
    print(json.dumps({"modules": sorted(sys.modules), "threads": threading.active_count() - threads,
                      "blas": [before, get() if get else None]}))
""")


def test_import_minifer_has_no_side_effects():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    heavy = [m for m in report["modules"] if m.split(".")[0] in ("PIL", "tqdm", "matplotlib", "skimage", "cupy", "h5py",
                                                                 "mpi4py", "onnx", "onnxruntime", "av", "dask",
                                                                 "distributed")
             or m.startswith(("minifer.data", "minifer.models", "minifer.plot", "minifer.cli", "minifer.predict",
                              "minifer.distributed"))]
    assert heavy == []
    assert report["threads"] == 0
    assert report["blas"][0] == report["blas"][1]


def test_a_parallel_section_puts_the_blas_thread_count_back():
    from minifer.kernels.cpu import parallel
    if parallel.blas_threads() is None:
        pytest.skip("NumPy here does not use OpenBLAS")
    import numpy
    before = parallel.blas_threads()
    parallel._blas[1](3)  # a count the section must change and put back (1 would pass trivially)
    try:
        inside = parallel.for_ranges(lambda a, b: parallel.blas_threads(), numpy, 0, 10, threads=2)
        assert inside == [1, 1]
        assert parallel.blas_threads() == 3
    finally:
        parallel._blas[1](before)
