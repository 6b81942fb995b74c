"""Experiments: configs, the train / evaluate / generate / sweep workflows and the ``mmdbm``
command line. The logic lives in importable functions; ``cli.py`` only parses arguments."""
