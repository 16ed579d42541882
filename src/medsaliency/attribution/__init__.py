"""Saliency maps: twelve methods behind one convention, computed for a trained classifier.

Every method returns float32 ``[N, H, W]`` maps at the model's input resolution, where larger
means more important for the explained class. :mod:`.explained_model` wraps a model once
(compiled gradient functions, the Grad-CAM layer); :mod:`.gradients` (PAIR saliency's
gradient and path methods), :mod:`.xrai`, :mod:`.cam` (Grad-CAM family) and
:mod:`.random_map` implement the families; :mod:`.methods` names them and runs them all.
"""
