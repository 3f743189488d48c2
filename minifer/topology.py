"""Which nodes lie between a model's inputs and outputs, and in what order they run.

The order is Keras's (``functional._map_graph_network``), so ``model.layers`` and
``summary()`` list layers as the paper's tables do: each node gets a depth, its longest
distance to an output; layers run and print by decreasing depth, ties broken by the
order a depth-first walk from the outputs first meets them. Every walk here uses an
explicit stack, never recursion, so deep graphs cannot hit Python's recursion limit.
"""


class GraphError(ValueError):
    """A model whose outputs cannot be computed from its inputs; the message names the tensors."""


def check_connected(inputs, outputs):
    """Every output must be computable from ``inputs`` alone; say which output and which input fail."""
    given = {t.node for t in inputs}
    given_names = ", ".join(t.layer.name for t in inputs)
    for output in outputs:
        sources = _sources(output)
        missing = [node.layer.name for node in sources if node not in given]
        if not sources & given:
            raise GraphError(f"output '{output.name}' does not depend on the model's inputs ({given_names}); "
                             f"it is computed from {', '.join(missing)}")
        if missing:
            raise GraphError(f"output '{output.name}' needs input(s) {', '.join(missing)}, which are not among "
                             f"the model's inputs ({given_names})")


def _sources(tensor):
    """The input nodes (nodes with no inbound tensors) that ``tensor`` is computed from."""
    seen, sources, stack = set(), set(), [tensor.node]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not node.inbound:
            sources.add(node)
        stack.extend(t.node for t in node.inbound)
    return sources


def map_graph(inputs, outputs):
    """Return (nodes in run order, layers in Keras order, {node: depth}).

    Inputs no output depends on still appear, first, so a model keeps every input it was given.
    """
    post_order, first_seen = _depth_first(outputs)
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):  # consumers before producers
        depth = max(node_depth.get(node, 0), layer_depth.get(node.layer, 0))
        node_depth[node] = layer_depth[node.layer] = depth
        for t in node.inbound:
            node_depth[t.node] = max(depth + 1, node_depth.get(t.node, 0))
    top = max(node_depth.values()) + 1
    for t in inputs:
        if t.node not in node_depth:
            node_depth[t.node], layer_depth[t.layer], first_seen[t.layer] = top, top, -1
    nodes = sorted(node_depth, key=lambda n: (-node_depth[n], first_seen[n.layer], n.index))
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
    return nodes, layers, node_depth


def _depth_first(outputs):
    """Nodes in post-order (each after its inbound nodes), and each layer's pre-order rank."""
    finished, post_order, first_seen = set(), [], {}
    stack = [(t.node, False) for t in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            finished.add(node)
            post_order.append(node)
            continue
        if node in finished:
            continue
        first_seen.setdefault(node.layer, len(first_seen))
        stack.append((node, True))
        stack.extend((t.node, False) for t in reversed(node.inbound) if t.node not in finished)
    return post_order, first_seen
