"""Custom actions of the madoguchi assistant, one module per topic.

The action server finds every concrete ``Action`` subclass by walking this package; shared bases are
abstract so that they are never registered themselves.
"""
