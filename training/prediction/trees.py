"""Gradient-boosted trees for the composition tasks, and their export to plain ONNX-ML.

Small experimental tables (4.6k band gaps, 312 steels) suit boosted trees better than neural
nets, and a tree ensemble is a few ONNX-ML nodes that onnxruntime runs without anything else.
`side_model` is a model of the Materials Project PBE band gap trained on crabnet's `mp_gap`
table (106k DFT gaps, no experimental value): its output is an extra input feature of the
experimental-gap models, so TiO2, MgO or NaCl, which the 4.6k experimental rows hardly cover,
inherit what DFT knows about them. Development time only (scikit-learn's trainer, onnx).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TreeParams:
    max_iter: int = 400
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 10
    l2_regularization: float = 1.0
    max_features: float = 0.5


def fit_regressor(
    x: np.ndarray, y: np.ndarray, params: TreeParams, seed: int, loss="absolute_error"
):
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(loss=loss, **_settings(params, seed))
    return model.fit(x, y)


def fit_classifier(x: np.ndarray, y: np.ndarray, params: TreeParams, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**_settings(params, seed))
    return model.fit(x, y.astype(int))


def _settings(params: TreeParams, seed: int) -> dict:
    """The boosting settings both tree models share."""
    return {
        "max_iter": params.max_iter,
        "learning_rate": params.learning_rate,
        "max_leaf_nodes": params.max_leaf_nodes,
        "min_samples_leaf": params.min_samples_leaf,
        "l2_regularization": params.l2_regularization,
        "max_features": params.max_features,
        "early_stopping": False,
        "random_state": seed,
    }


# ONNX export ------------------------------------------------------------------------------------
def tree_node(model, name: str, inputs: str, output: str, feature_offset: int = 0):
    """A fitted HistGradientBoosting model → one TreeEnsembleRegressor node (raw score).

    Thresholds are scikit-learn's real-valued split points (x <= t goes left), missing values
    follow `missing_go_to_left`; the baseline is the ensemble's starting value.
    """
    from onnx import helper

    attrs: dict[str, list] = {
        k: []
        for k in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_values",
            "nodes_modes",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "nodes_missing_value_tracks_true",
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    for tree_id, predictors in enumerate(model._predictors):
        nodes = predictors[0].nodes
        for node_id, node in enumerate(nodes):
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node_id)
            leaf = bool(node["is_leaf"])
            attrs["nodes_featureids"].append(
                0 if leaf else int(node["feature_idx"]) + feature_offset
            )
            attrs["nodes_values"].append(0.0 if leaf else float(node["num_threshold"]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_truenodeids"].append(0 if leaf else int(node["left"]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(node["right"]))
            attrs["nodes_missing_value_tracks_true"].append(
                0 if leaf else int(node["missing_go_to_left"])
            )
            if leaf:
                attrs["target_treeids"].append(tree_id)
                attrs["target_nodeids"].append(node_id)
                attrs["target_ids"].append(0)
                attrs["target_weights"].append(float(node["value"]))
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return helper.make_node(
        "TreeEnsembleRegressor",
        [inputs],
        [output],
        domain="ai.onnx.ml",
        name=name,
        n_targets=1,
        aggregate_function="SUM",
        base_values=[baseline],
        post_transform="NONE",
        **attrs,  # pyright: ignore[reportArgumentType]
    )


def export_two_stage(
    path,
    n_features: int,
    folds: list,
    side_models: list,
    side_inputs: list[str] | None = None,
    blend_onnx=None,
    dft_gate: float | None = None,
) -> None:
    """One ONNX graph: features → side features → per fold P(gap > 0) and gap → [N, folds].

    `side_models` are HistGradientBoosting regressors or classifiers (their P(class 1)) on the
    raw features (their outputs are appended as extra columns, in order); `side_inputs` name
    further graph inputs [N, 1] appended after them: the run time feeds the ensemble means of
    other composition models. Each fold is (classifier, [regressors]): the member's gap is
    max(mean of the regressors, 0) where the classifier says P(non-metal) > 0.5, and 0
    otherwise. `blend_onnx` (an ensemble with the same [N, folds] output, member k trained on
    the same rows) is averaged in, member by member.
    `dft_gate`: no metal call where the first side model (the PBE gap) predicts more than this.
    """
    import onnx
    from onnx import TensorProto, helper

    inits = []
    side_inputs = list(side_inputs or [])
    nodes = _wide_input(side_models, side_inputs)
    inits.append(helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]))
    inits.append(helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]))
    members = []
    if dft_gate is not None:
        inits.append(helper.make_tensor("dft_gate", TensorProto.FLOAT, [], [dft_gate]))
        nodes.append(helper.make_node("Greater", ["side0", "dft_gate"], ["dft_nonmetal"]))
    for k, (classifier, regressors) in enumerate(folds):
        nodes.append(tree_node(classifier, f"cls{k}", "wide", f"raw{k}"))
        nodes.append(helper.make_node("Sigmoid", [f"raw{k}"], [f"p{k}"]))
        if dft_gate is None:
            nodes.append(helper.make_node("Greater", [f"p{k}", "half"], [f"nonmetal{k}"]))
        else:
            nodes.append(helper.make_node("Greater", [f"p{k}", "half"], [f"cls_nonmetal{k}"]))
            nodes.append(
                helper.make_node("Or", [f"cls_nonmetal{k}", "dft_nonmetal"], [f"nonmetal{k}"])
            )
        outs = []
        for j, regressor in enumerate(regressors):
            nodes.append(tree_node(regressor, f"reg{k}_{j}", "wide", f"reg{k}_{j}"))
            outs.append(f"reg{k}_{j}")
        nodes.append(helper.make_node("Mean", outs, [f"reg{k}"]))
        nodes.append(helper.make_node("Max", [f"reg{k}", "zero"], [f"pos{k}"]))
        nodes.append(helper.make_node("Where", [f"nonmetal{k}", f"pos{k}", "zero"], [f"gap{k}"]))
        members.append(f"gap{k}")
    trees_out = "trees" if blend_onnx is not None else "members"
    nodes.append(helper.make_node("Concat", members, [trees_out], axis=1))
    if blend_onnx is not None:
        sub = onnx.compose.add_prefix(onnx.load(str(blend_onnx)), "blend_")
        inits.extend(sub.graph.initializer)
        for node in sub.graph.node:
            node.input[:] = ["features" if n == "blend_features" else n for n in node.input]
            nodes.append(node)
        nodes.append(helper.make_node("Max", [sub.graph.output[0].name, "zero"], ["blend_clipped"]))
        nodes.append(helper.make_node("Mean", ["trees", "blend_clipped"], ["members"]))
    _save(path, "two_stage_gap", nodes, inits, n_features, side_inputs, len(folds))


def export_classifier(
    path, n_features: int, folds: list, side_models: list, side_inputs: list[str]
) -> None:
    """One ONNX graph: features → side features → per fold P(class 1) → [N, folds].

    `side_models` and `side_inputs` as in `export_two_stage`; each fold is one
    HistGradientBoosting classifier on the features with the side columns appended."""
    from onnx import helper

    nodes = _wide_input(side_models, side_inputs)
    members = []
    for k, classifier in enumerate(folds):
        nodes.append(tree_node(classifier, f"cls{k}", "wide", f"raw{k}"))
        nodes.append(helper.make_node("Sigmoid", [f"raw{k}"], [f"p{k}"]))
        members.append(f"p{k}")
    nodes.append(helper.make_node("Concat", members, ["members"], axis=1))
    _save(path, "tree_classifier", nodes, [], n_features, side_inputs, len(folds))


def _wide_input(side_models: list, side_inputs: list[str]) -> list:
    """Nodes that append the side models' outputs, then the side inputs, to the features."""
    from onnx import helper

    nodes, side_outputs = [], []
    for i, model in enumerate(side_models):
        if hasattr(model, "predict_proba"):
            nodes.append(tree_node(model, f"side{i}_raw", "features", f"side{i}_raw"))
            nodes.append(helper.make_node("Sigmoid", [f"side{i}_raw"], [f"side{i}"]))
        else:
            nodes.append(tree_node(model, f"side{i}", "features", f"side{i}"))
        side_outputs.append(f"side{i}")
    side_outputs.extend(side_inputs)
    nodes.append(helper.make_node("Concat", ["features", *side_outputs], ["wide"], axis=1))
    return nodes


def _save(
    path, name: str, nodes: list, inits: list, n_features: int, side_inputs: list[str], k: int
) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", n_features]),
            *(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", 1]) for n in side_inputs),
        ],
        [helper.make_tensor_value_info("members", TensorProto.FLOAT, ["n", k])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
