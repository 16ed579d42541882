"""How good are the saliency maps: PIC curves (:mod:`.pic`), insertion/deletion (:mod:`.insertion_deletion`),
ROAD (:mod:`.road`), statistics (:mod:`.stats`), localisation against lesion masks (:mod:`.localization`),
map sparseness and complexity (:mod:`.complexity`), the model-randomisation sanity check and RandomLogit
(:mod:`.sanity`, :mod:`.model_evaluation`), and how far the measures agree (:mod:`.agreement`)."""
