module github.com/keqiao/villagekiosk

go 1.26.8
