"""Chinese text processing: segmentation and the classifiers that tag themes and sentiment."""
