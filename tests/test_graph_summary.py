"""summary(): Keras's table, "Connected to" only for graphs that branch, clear error when unbuilt."""
import pytest

from minifer import Input, Model, Sequential
from minifer.layers import Dense, ReLU, fresh_names
from minifer.models import arch1, arch3


def rows(text):
    """{layer name: [output shape, param #, connected to]} read at the header's column positions."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Layer (type)"))
    starts = [0] + [header.index(title) for title in ("Output Shape", "Param #", "Connected to") if title in header]
    table = {}
    for line in lines[lines.index(header) + 2:]:
        fields = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        if fields[0] and "(" in fields[0]:
            table[fields[0].split()[0]] = [field.strip("[]()") if i == 1 else field
                                           for i, field in enumerate(fields)][1:]
    return table


def test_arch1_summary_matches_table_1_and_shows_the_residual_branch():
    text = arch1().summary(print_fn=lambda line: None)
    assert text.startswith('Model: "arch1"\n')
    header = next(line for line in text.splitlines() if line.startswith("Layer (type)"))
    assert header.split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Connected", "to"]
    table = rows(text)
    assert table["input_1"][0] == "None, 48, 48, 1"
    assert table["conv2d"] == ["None, 48, 48, 8", "72", "input_1[0][0]"]
    assert table["conv2d_4"] == ["None, 24, 24, 16", "256", "activation_3[0][0]"]  # the branch leaves here
    assert table["separable_conv2d"] == ["None, 24, 24, 32", "656", "activation_3[0][0]"]
    assert table["add"] == ["None, 12, 12, 32", "0", "activation_5[0][0]"]
    add_line = next(i for i, line in enumerate(text.splitlines()) if line.startswith("add (Add)"))
    assert text.splitlines()[add_line + 1].strip() == "batch_normalization_5[0][0]"
    assert table["max_pooling2d_2"][0] == "None, 6, 6, 64"
    assert table["conv2d_10"][:2] == ["None, 6, 6, 7", "8071"]
    assert table["predictions"] == ["None, 7", "0", "global_average_pooling2d[0][0]"]
    assert text.rstrip().splitlines()[-4:-1] == ["Total params: 293,951", "Trainable params: 292,863",
                                                 "Non-trainable params: 1,088"]


def test_a_plain_chain_has_no_connected_to_column():
    text = arch3().summary(print_fn=lambda line: None)
    assert "Connected to" not in text and "[0][0]" not in text
    assert rows(text)["conv2d_11"][:2] == ["None, 6, 6, 7", "8071"]


def test_summary_prints_each_line_through_print_fn_and_returns_the_text():
    with fresh_names():
        model = Sequential([Dense(4), ReLU(), Dense(2)], input_shape=(3,))
    lines = []
    text = model.summary(print_fn=lines.append)
    assert lines == text.splitlines()
    assert 'Model: "sequential"' in text and "input_1" not in text  # Sequential hides its InputLayer, as Keras
    assert rows(text)["dense"] == ["None, 4", "16"] and "Total params: 26" in text


def test_a_shared_layer_shows_multiple_shapes_and_both_calls():
    dense = Dense(2, name="shared")
    a, b = Input((3,), name="a"), Input((3,), name="b")
    text = Model([a, b], [dense(a), dense(b)]).summary(print_fn=lambda line: None)
    line = next(line for line in text.splitlines() if line.startswith("shared (Dense)"))
    assert line.split()[2:] == ["multiple", "8", "a[0][0]"]
    assert text.splitlines()[text.splitlines().index(line) + 1].strip() == "b[0][0]"


def test_line_length_widens_the_table():
    model = arch3()
    narrow = model.summary(print_fn=lambda line: None)
    wide = model.summary(print_fn=lambda line: None, line_length=140)
    assert len(wide.splitlines()[1]) == 140 > len(narrow.splitlines()[1])


def test_summary_of_an_unbuilt_model_says_how_to_build_it():
    with pytest.raises(RuntimeError, match=r"is not built yet.*input_shape.*build"):
        Sequential([Dense(2)]).summary()
