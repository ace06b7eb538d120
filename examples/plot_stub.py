"""
Stub
====

A stub.
"""
print(1)
