from flask import Blueprint

bp = Blueprint("numbers", __name__)
