import a.b as c, d
from .x import y
s = """from z import w"""
try: import numpy
except: m = __import__("q")
