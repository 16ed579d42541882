"""How good are the saliency maps: PIC curves (:mod:`.pic`), statistics (:mod:`.stats`),
localisation against lesion masks (:mod:`.localization`) and the model-randomisation sanity
check (:mod:`.sanity`)."""
