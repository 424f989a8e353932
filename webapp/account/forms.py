from flask_wtf import FlaskForm
from wtforms import BooleanField

from webapp.fields import TextField


class ProfileForm(FlaskForm):
    # Shape only: the service reads and checks the values (fields.parse_email …).
    full_name = TextField("Họ và tên")
    email = TextField("Thư điện tử")
    phone = TextField("Số điện thoại")
    email_notifications = BooleanField("Nhận thông báo qua thư điện tử")
