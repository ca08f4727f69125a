from firstline.cli.main import main

main()
