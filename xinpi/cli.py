def main():
    print("xinpi")
