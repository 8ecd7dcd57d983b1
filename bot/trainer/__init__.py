"""The trainer's loop: the review inbox, grouping, labelling into the training data."""
