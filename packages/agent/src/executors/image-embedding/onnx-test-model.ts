import { writeFile } from "node:fs/promises";
import protobuf from "protobufjs";

/*
 * Builds tiny but real ONNX models for the embedding tests, so the real runtime and the real
 * preprocessing run without shipping weights. The schema is the subset of onnx/onnx.proto (field
 * numbers as published) that a graph of four standard operators needs.
 */
const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; }
message AttributeProto { string name = 1; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; string name = 8; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TypeProto { Tensor tensor_type = 1; message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } }
message TensorShapeProto { repeated Dimension dim = 1; message Dimension { int64 dim_value = 1; string dim_param = 2; } }
`;

const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const tensorType = (dims: (number | string)[]) => ({
  tensor_type: {
    elem_type: FLOAT,
    shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
  },
});

/**
 * `input` [batch, 3, 224, 224] → AveragePool 56×56 → [batch, 3, 4, 4] → Flatten → [batch, 48] →
 * MatMul W[48, dim] → `output` [batch, dim]. Column c < 3 of W averages channel c, so for a solid
 * colour image output[c] is exactly that channel's normalised value; the other columns are fixed
 * pseudo-random mixes of the 4×4 regions, so different pictures give different vectors.
 */
export async function writePoolingModel(path: string, opts: { dim: number; input: string; output: string }) {
  const weights = new Array<number>(48 * opts.dim);
  for (let i = 0; i < 48; i++) {
    for (let j = 0; j < opts.dim; j++) {
      weights[i * opts.dim + j] = j < 3 ? (Math.floor(i / 16) === j ? 1 / 16 : 0) : Math.sin(i * 12.9898 + j * 78.233);
    }
  }
  const model = {
    ir_version: 8,
    producer_name: "gantry-tests",
    opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "pooling_embedder",
      node: [
        {
          op_type: "AveragePool",
          input: [opts.input],
          output: ["pooled"],
          attribute: [
            { name: "kernel_shape", type: ATTR_INTS, ints: [56, 56] },
            { name: "strides", type: ATTR_INTS, ints: [56, 56] },
          ],
        },
        {
          op_type: "Flatten",
          input: ["pooled"],
          output: ["flat"],
          attribute: [{ name: "axis", type: ATTR_INT, i: 1 }],
        },
        { op_type: "MatMul", input: ["flat", "W"], output: [opts.output] },
      ],
      initializer: [{ name: "W", dims: [48, opts.dim], data_type: FLOAT, float_data: weights }],
      input: [{ name: opts.input, type: tensorType(["batch", 3, 224, 224]) }],
      output: [{ name: opts.output, type: tensorType(["batch", opts.dim]) }],
    },
  };
  const ModelProto = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType("onnx.ModelProto");
  await writeFile(path, ModelProto.encode(ModelProto.fromObject(model)).finish());
}
