"""MLflow and Optuna: the tracking conventions, the runs per method, tuning, the Model Registry and model sources."""
