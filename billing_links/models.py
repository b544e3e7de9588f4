# Billing account links arrive with their own issue; the app is installed so that its
# migrations start from the project's first release.
