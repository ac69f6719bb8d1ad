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

    model = HistGradientBoostingRegressor(
        loss=loss,
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        max_features=params.max_features,
        early_stopping=False,
        random_state=seed,
    )
    return model.fit(x, y)


def fit_classifier(x: np.ndarray, y: np.ndarray, params: TreeParams, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        max_features=params.max_features,
        early_stopping=False,
        random_state=seed,
    )
    return model.fit(x, y.astype(int))


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
        **attrs,
    )
