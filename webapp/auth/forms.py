from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.fields import TextField


class LoginForm(FlaskForm):
    username = TextField(
        "Tên đăng nhập",
        validators=[DataRequired("Vui lòng nhập tên đăng nhập."), Length(max=64)],
    )
    password = PasswordField(
        "Mật khẩu",
        validators=[DataRequired("Vui lòng nhập mật khẩu."), Length(max=200)],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Mật khẩu hiện tại",
        validators=[DataRequired("Vui lòng nhập mật khẩu hiện tại.")],
    )
    new = PasswordField(
        "Mật khẩu mới",
        validators=[
            DataRequired("Vui lòng nhập mật khẩu mới."),
            Length(
                min=10, max=200, message="Mật khẩu mới phải có từ 10 đến 200 ký tự."
            ),
        ],
    )
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[EqualTo("new", "Mật khẩu nhập lại không khớp.")],
    )


class ForgotPasswordForm(FlaskForm):
    identifier = TextField(
        "Tên đăng nhập hoặc địa chỉ thư điện tử",
        validators=[
            DataRequired("Vui lòng nhập tên đăng nhập hoặc địa chỉ thư điện tử."),
            Length(max=254),
        ],
    )


class ResetPasswordForm(FlaskForm):
    new = PasswordField(
        "Mật khẩu mới",
        validators=[
            DataRequired("Vui lòng nhập mật khẩu mới."),
            Length(
                min=10, max=200, message="Mật khẩu mới phải có từ 10 đến 200 ký tự."
            ),
        ],
    )
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[EqualTo("new", "Mật khẩu nhập lại không khớp.")],
    )
