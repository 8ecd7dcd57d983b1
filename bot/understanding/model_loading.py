"""Loading a trained model for answering without training it first: about four times faster.

Rasa builds each TensorFlow model it loads (DIET, TED) by fitting it on one example, which
traces the whole training step and its gradients, then overwrites the weights it just
trained with the saved ones: about 25 of the 33 seconds a Rasa process took to load our
model, on this 2-core machine, before it could answer its first message.
`install_inference_loading` makes `RasaModel.load` build the model the way it is used,
by the one prediction Rasa runs after loading anyway: the saved weights are read first
and each variable takes its value as that prediction creates it (TensorFlow's restore on
create). The optimizer's saved state, which only training reads, is left out.

Loading for fine-tuning (`nightdesk train` on top of the live model) and a model without an
example to predict on are loaded Rasa's way. The predictions are the same, figure for
figure: `tests/integration/test_model_loading.py` loads the trained model both ways and
compares them; `bench/model_load.py` measures both.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_RASAS_LOAD = RasaModel.__dict__["load"]
"""Rasa's own `RasaModel.load` (a classmethod), for what is loaded its way."""


def _load_for_inference(cls: type[RasaModel], model_file_name: str,
                        model_data_example: RasaModelData,
                        predict_data_example: RasaModelData | None = None,
                        finetune_mode: bool = False, *args: Any, **kwargs: Any) -> RasaModel:
    """`RasaModel.load`, building the model by a prediction instead of a training step."""
    if finetune_mode or predict_data_example is None:
        return _RASAS_LOAD.__func__(cls, model_file_name, model_data_example,
                                    predict_data_example, finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    restoring = model.load_weights(model_file_name)  # restored as each variable is made
    model.run_inference(predict_data_example)
    restoring.expect_partial()  # the optimizer's state: for training only
    return model


def install_inference_loading() -> None:
    """Makes every model this process loads for answering load without a training step."""
    RasaModel.load = classmethod(_load_for_inference)  # type: ignore[method-assign]


def uninstall_inference_loading() -> None:
    """Rasa's own loading again (for comparing the two)."""
    RasaModel.load = _RASAS_LOAD  # type: ignore[method-assign]
