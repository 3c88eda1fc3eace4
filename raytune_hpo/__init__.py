"""Config-driven hyperparameter tuning on Ray Tune."""
