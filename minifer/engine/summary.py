"""``model.summary()``: the table Keras prints and the paper reproduces (Tables 1-4).

Columns: ``Layer (type)``, ``Output Shape``, ``Param #`` and, only when the graph is not
a plain chain, ``Connected to`` with entries such as ``conv2d_3[0][0]`` (one line per
inbound tensor). "Not a plain chain" is Keras's own rule: two nodes at one depth (a
branch), a node with several inbound tensors (a merge), or a layer called twice. So
ARCH-1, with its residual branch, shows the column; ARCH-3, a straight stack, does not.
Columns start at Keras's widths and grow to fit their longest entry instead of cutting it.
"""
from ..layers import InputLayer
from ..layers.base import _fmt

CHAIN_LAYOUT = (65, (0.45, 0.85, 1.0))  # Keras's line_length and column stops
GRAPH_LAYOUT = (98, (0.33, 0.55, 0.67, 1.0))


def is_chain(model):
    """Keras's ``sequential_like``: one node per depth, each with at most one inbound tensor, no shared layer."""
    per_depth = {}
    for node, depth in model._node_depth.items():
        per_depth[depth] = per_depth.get(depth, 0) + 1
        if len(node.inbound) > 1:
            return False
    return all(n == 1 for n in per_depth.values()) and all(len(model.model_nodes(layer)) == 1
                                                           for layer in model.layers)


def format_summary(model, line_length=None):
    chain = is_chain(model)
    default_length, stops = CHAIN_LAYOUT if chain else GRAPH_LAYOUT
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    rows = [row for layer in model.layers for row in _layer_rows(model, layer, chain)]
    widths = _widths(header, rows, line_length or default_length, stops)
    rule = sum(widths)
    lines = [f'Model: "{model.name}"', "_" * rule, _line(header, widths), "=" * rule]
    for i, layer_rows in enumerate(_group(rows)):
        lines += [_line(row, widths) for row in layer_rows]
        lines.append("=" * rule if i == len(model.layers) - 1 else "_" * rule)
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    lines += [f"Total params: {trainable + non_trainable:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}", "_" * rule]
    return "\n".join(lines) + "\n"


def _layer_rows(model, layer, chain):
    """One row per layer, plus a continuation row for each further inbound tensor."""
    nodes = model.model_nodes(layer)
    first = [f"{layer.name} ({type(layer).__name__})", _output_shape(layer, nodes), str(layer.count_params())]
    if chain:
        return [first]
    index = {}
    links = []
    for node in nodes:
        for t in node.inbound:
            if t.node not in index:
                index[t.node] = model.model_nodes(t.layer).index(t.node)
            links.append(f"{t.layer.name}[{index[t.node]}][{t.index}]")
    rows = [first + [links[0] if links else ""]]
    rows += [["", "", "", link] for link in links[1:]]
    return rows


def _output_shape(layer, nodes):
    if len(nodes) != 1:
        return "multiple"
    shapes = [_fmt(t.shape) for t in nodes[0].outputs]
    if isinstance(layer, InputLayer):
        return f"[{shapes[0]}]"  # Keras 2 prints an input's shape as a list, as the paper's tables show
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _group(rows):
    """Rows regrouped per layer (continuation rows start with an empty name)."""
    groups = []
    for row in rows:
        if row[0] or not groups:
            groups.append([])
        groups[-1].append(row)
    return groups


def _widths(header, rows, line_length, stops):
    ends = [int(line_length * s) for s in stops]
    widths = [end - start for start, end in zip([0] + ends, ends)]
    for column in range(len(header)):
        longest = max(len(row[column]) for row in rows + [header])
        widths[column] = max(widths[column], longest + 1)
    return widths


def _line(fields, widths):
    return "".join(field.ljust(width) for field, width in zip(fields, widths)).rstrip()
