"""Reading Salesforce's error JSON out of simple-salesforce's exceptions."""


def error_of(exc_info):
    content = exc_info.value.content
    return content[0]["errorCode"], content[0].get("fields", [])
