from retail_kernel.errors import BadRequest, Conflict, NotFound, Unauthorized, UnprocessableContent


class UsernameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("that username is taken")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("that email is already registered")


class WeakPassword(UnprocessableContent):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("the password " + "; ".join(problems))


class WrongPassword(Unauthorized):
    def __init__(self) -> None:
        super().__init__("the current password is wrong")


class InvalidResetToken(BadRequest):
    def __init__(self) -> None:
        super().__init__("the reset token is invalid, used or expired")


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such user")


class CannotDemoteSelf(Conflict):
    def __init__(self) -> None:
        super().__init__("admins cannot remove their own admin role or lock themselves")
