"""Two-tower recommender (item tower: id + content; user tower: GRU/LSTM) in Keras 3 on TensorFlow.

Importing this package does not import TensorFlow: the DAG parses it cheaply. TF is imported by `train`
only; a saved model's vectors come from a numpy forward pass (`numpy_net`, checked equal to Keras within
1e-5), so the score and evaluate tasks never start TensorFlow.
"""

from recpipeline.model.artifact import TrainedModel
from recpipeline.model.ranking import rank_of_targets
from recpipeline.model.training import evaluate, make_examples, train
from recpipeline.model.types import ItemContent, ModelParams, TrainingSet

__all__ = [
    "ItemContent",
    "ModelParams",
    "TrainedModel",
    "TrainingSet",
    "evaluate",
    "make_examples",
    "rank_of_targets",
    "train",
]
